using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace WebRtcP2p.Internal
{
    /// <summary>
    /// A small JSON writer: the package must build without Unity (tests run under Mono) and without a
    /// JSON dependency, and it only ever writes the config and reads the host list and error replies.
    /// </summary>
    internal sealed class JsonWriter
    {
        private readonly StringBuilder sb = new StringBuilder();
        private bool needComma;

        public JsonWriter BeginObject() { Value(); sb.Append('{'); needComma = false; return this; }
        public JsonWriter EndObject() { sb.Append('}'); needComma = true; return this; }
        public JsonWriter BeginArray() { Value(); sb.Append('['); needComma = false; return this; }
        public JsonWriter EndArray() { sb.Append(']'); needComma = true; return this; }

        public JsonWriter Key(string key)
        {
            Value();
            Quote(key);
            sb.Append(':');
            needComma = false;
            return this;
        }

        public JsonWriter String(string s) { Value(); Quote(s); needComma = true; return this; }
        public JsonWriter Number(long n) { Value(); sb.Append(n.ToString(CultureInfo.InvariantCulture)); needComma = true; return this; }
        public JsonWriter Bool(bool b) { Value(); sb.Append(b ? "true" : "false"); needComma = true; return this; }

        public override string ToString() { return sb.ToString(); }

        private void Value()
        {
            if (needComma)
            {
                sb.Append(',');
            }
        }

        private void Quote(string s)
        {
            sb.Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20)
                        {
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            sb.Append(c);
                        }
                        break;
                }
            }
            sb.Append('"');
        }
    }

    /// <summary>
    /// A small JSON reader producing Dictionary&lt;string, object&gt;, List&lt;object&gt;, string,
    /// double, bool or null. Throws FormatException on malformed input.
    /// </summary>
    internal sealed class JsonReader
    {
        private readonly string s;
        private int i;

        private JsonReader(string s) { this.s = s; }

        public static object Parse(string json)
        {
            if (json == null)
            {
                throw new FormatException("no JSON");
            }
            var r = new JsonReader(json);
            var v = r.ReadValue();
            r.SkipSpace();
            if (r.i != json.Length)
            {
                throw new FormatException("trailing characters after JSON at " + r.i);
            }
            return v;
        }

        private object ReadValue()
        {
            SkipSpace();
            if (i >= s.Length)
            {
                throw new FormatException("unexpected end of JSON");
            }
            var c = s[i];
            if (c == '{') return ReadObject();
            if (c == '[') return ReadArray();
            if (c == '"') return ReadString();
            if (Literal("true")) return true;
            if (Literal("false")) return false;
            if (Literal("null")) return null;
            return ReadNumber();
        }

        private Dictionary<string, object> ReadObject()
        {
            var d = new Dictionary<string, object>();
            i++;
            SkipSpace();
            if (Peek() == '}') { i++; return d; }
            while (true)
            {
                SkipSpace();
                if (Peek() != '"') throw new FormatException("expected a key at " + i);
                var key = ReadString();
                SkipSpace();
                Expect(':');
                d[key] = ReadValue();
                SkipSpace();
                if (Peek() == ',') { i++; continue; }
                Expect('}');
                return d;
            }
        }

        private List<object> ReadArray()
        {
            var list = new List<object>();
            i++;
            SkipSpace();
            if (Peek() == ']') { i++; return list; }
            while (true)
            {
                list.Add(ReadValue());
                SkipSpace();
                if (Peek() == ',') { i++; continue; }
                Expect(']');
                return list;
            }
        }

        private string ReadString()
        {
            i++;
            var sb = new StringBuilder();
            while (true)
            {
                if (i >= s.Length) throw new FormatException("unterminated string");
                var c = s[i++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (i >= s.Length) throw new FormatException("unterminated escape");
                var e = s[i++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (i + 4 > s.Length) throw new FormatException("short \\u escape");
                        sb.Append((char)int.Parse(s.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 4;
                        break;
                    default: throw new FormatException("bad escape \\" + e);
                }
            }
        }

        private double ReadNumber()
        {
            var start = i;
            while (i < s.Length && "+-0123456789.eE".IndexOf(s[i]) >= 0) i++;
            double d;
            if (start == i || !double.TryParse(s.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out d))
            {
                throw new FormatException("unexpected character at " + start);
            }
            return d;
        }

        private bool Literal(string word)
        {
            if (string.CompareOrdinal(s, i, word, 0, word.Length) != 0) return false;
            i += word.Length;
            return true;
        }

        private char Peek() { return i < s.Length ? s[i] : '\0'; }

        private void Expect(char c)
        {
            if (Peek() != c) throw new FormatException("expected '" + c + "' at " + i);
            i++;
        }

        private void SkipSpace()
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        }
    }
}
