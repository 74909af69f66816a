#if UNITY_5_3_OR_NEWER && (!UNITY_WEBGL || UNITY_EDITOR)
using UnityEngine;
using WebRtcP2p.Native;
#if UNITY_EDITOR
using UnityEditor;
#endif

namespace WebRtcP2p
{
    /// <summary>
    /// Tears the native library down (p2p_shutdown) when the player quits and, in the editor, before
    /// a script reload: the library stays loaded across reloads, so no callback may be left pointing
    /// into an unloaded domain, and its runtime threads must not keep a quitting process alive.
    /// </summary>
#if UNITY_EDITOR
    [InitializeOnLoad]
#endif
    internal static class NativeLifecycle
    {
        static NativeLifecycle()
        {
#if UNITY_EDITOR
            AssemblyReloadEvents.beforeAssemblyReload += () => NativePeerClient.ShutdownLibrary();
#endif
        }

        [RuntimeInitializeOnLoadMethod(RuntimeInitializeLoadType.BeforeSceneLoad)]
        private static void OnLoad()
        {
            Application.quitting += () => NativePeerClient.ShutdownLibrary();
        }
    }
}
#endif
