//! NKey signatures of the server nonce (Go: the `sig` check of `processClientOrLeafAuthentication`).

use base64::Engine;

/// Checks an NKey signature of the nonce (raw URL base64, or standard base64).
pub(crate) fn nonce_signed(nkey: &str, sig: &str, nonce: Option<&str>) -> bool {
    let Some(nonce) = nonce else {
        return false;
    };
    if sig.is_empty() {
        return false;
    }
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(sig));
    let Ok(sig) = sig else {
        return false;
    };
    nkeys::KeyPair::from_public_key(nkey)
        .and_then(|kp| kp.verify(nonce.as_bytes(), &sig))
        .is_ok()
}
