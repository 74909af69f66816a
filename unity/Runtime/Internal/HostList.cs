using System.Collections.Generic;
using System.Threading.Tasks;

namespace WebRtcP2p.Internal
{
    /// <summary>The host list's JSON (<c>[{"id":"…","name":"…"}]</c>) as Host objects.</summary>
    internal static class HostList
    {
        public static async Task<List<Host>> ParseAsync(Task<string> json)
        {
            return Parse(await json.ConfigureAwait(false));
        }

        public static List<Host> Parse(string json)
        {
            var list = JsonReader.Parse(json) as List<object>;
            if (list == null)
            {
                throw new PeerClientException(ErrorCodes.Rejected, "the host list is not a JSON array: " + json);
            }
            return FromItems(list);
        }

        /// <summary>Hosts from parsed JSON items; items without a string id and name are skipped.</summary>
        public static List<Host> FromItems(List<object> items)
        {
            var hosts = new List<Host>();
            foreach (var item in items)
            {
                var h = item as Dictionary<string, object>;
                object id, name;
                if (h != null && h.TryGetValue("id", out id) && h.TryGetValue("name", out name) && id is string && name is string)
                {
                    hosts.Add(new Host((string)id, (string)name));
                }
            }
            return hosts;
        }
    }
}
