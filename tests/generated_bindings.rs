//! The checked-in generated bindings must match what build.rs generates from src/ffi. Under CI the
//! build does not touch the tree, so a change to the ABI without regenerating fails here.

#[test]
fn checked_in_header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/webrtc_p2p.h"));
    let checked_in = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/webrtc_p2p.h")).unwrap();
    assert!(generated == checked_in, "include/webrtc_p2p.h is stale: run `cargo build` outside CI and commit it");
}

#[test]
fn checked_in_csharp_bindings_are_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/NativeMethods.g.cs"));
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/unity/Runtime/NativeMethods.g.cs")).unwrap();
    assert!(
        generated == checked_in,
        "unity/Runtime/NativeMethods.g.cs is stale: run `cargo build` outside CI and commit it"
    );
}

#[test]
fn checked_in_codes_and_protocol_for_csharp_and_typescript_are_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (generated, checked_in) in [
        (include_str!(concat!(env!("OUT_DIR"), "/Codes.g.cs")), "unity/Runtime/Codes.g.cs"),
        (include_str!(concat!(env!("OUT_DIR"), "/codes.g.ts")), "web/src/codes.g.ts"),
        (include_str!(concat!(env!("OUT_DIR"), "/protocol.g.ts")), "web/src/protocol.g.ts"),
    ] {
        let on_disk = std::fs::read_to_string(format!("{root}/{checked_in}")).unwrap();
        assert!(generated == on_disk, "{checked_in} is stale: run `cargo build` outside CI and commit it");
    }
}
