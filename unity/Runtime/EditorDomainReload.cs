#if UNITY_EDITOR && !UNITY_WEBGL
using UnityEditor;
using WebRtcP2p.Native;

namespace WebRtcP2p
{
    /// <summary>
    /// Before the editor reloads scripts, every native client is destroyed (p2p_shutdown): the native
    /// library stays loaded across reloads, and no callback may point into the unloaded domain.
    /// </summary>
    [InitializeOnLoad]
    internal static class EditorDomainReload
    {
        static EditorDomainReload()
        {
            AssemblyReloadEvents.beforeAssemblyReload += () => NativeMethods.p2p_shutdown();
            EditorApplication.quitting += () => NativeMethods.p2p_shutdown();
        }
    }
}
#endif
