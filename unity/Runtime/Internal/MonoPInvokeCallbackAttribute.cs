#if !UNITY_5_3_OR_NEWER
using System;

namespace AOT
{
    /// <summary>
    /// Unity (IL2CPP) defines AOT.MonoPInvokeCallbackAttribute and needs it on every static method
    /// native code calls back; outside Unity the package defines it so the same source builds.
    /// </summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type)
        {
        }
    }
}
#endif
