//! stub
use revm as _;
#[test]
fn stub() {}
