// Unity WebGL side of the bridge: C# (WebGLPeerClient.cs) calls these through [DllImport("__Internal")];
// they forward to globalThis.webrtcP2pBridge, which the web package (web/src/bridge.ts) installs
// when the page loads it and calls `new PeerAdapter().adapt()`.
mergeInto(LibraryManager.library, {
  WebRtcP2p_CallAction: function (name, str1, str2) {
    globalThis.webrtcP2pBridge.callAction(UTF8ToString(name), UTF8ToString(str1), UTF8ToString(str2));
  },

  // Returns a malloc'd UTF-8 string; the C# marshaller frees it.
  WebRtcP2p_CallFunction: function (name, str1, str2) {
    var result = globalThis.webrtcP2pBridge.callFunction(UTF8ToString(name), UTF8ToString(str1), UTF8ToString(str2));
    var size = lengthBytesUTF8(result) + 1;
    var buffer = _malloc(size);
    stringToUTF8(result, buffer, size);
    return buffer;
  },

  // `callback` is a static C# method marked [MonoPInvokeCallback]: void (string name, string str1, string str2).
  WebRtcP2p_SetCallback: function (callback) {
    globalThis.webrtcP2pBridge.setCallbackTarget(function (name, str1, str2) {
      var args = [name, str1, str2].map(function (s) {
        var size = lengthBytesUTF8(s) + 1;
        var p = _malloc(size);
        stringToUTF8(s, p, size);
        return p;
      });
      try {
        {{{ makeDynCall('viii', 'callback') }}}(args[0], args[1], args[2]);
      } finally {
        args.forEach(function (p) { _free(p); });
      }
    });
  },
});
