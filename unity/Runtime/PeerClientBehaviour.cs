#if UNITY_5_3_OR_NEWER
using UnityEngine;

namespace WebRtcP2p
{
    /// <summary>
    /// Ties a PeerClient to a GameObject: pumps its events every frame (needed only when it was made
    /// without a SynchronizationContext, harmless otherwise) and disposes it when the object is destroyed.
    /// </summary>
    public class PeerClientBehaviour : MonoBehaviour
    {
        public PeerClient Client { get; set; }

        private void Update()
        {
            if (Client != null)
            {
                Client.DispatchEvents();
            }
        }

        private void OnDestroy()
        {
            if (Client != null)
            {
                Client.Dispose();
                Client = null;
            }
        }
    }
}
#endif
