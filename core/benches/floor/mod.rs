//! The floor for a small sign on the machine at hand: a single-purpose Aevo signer over the
//! same SHA-256 compression function as apisig, doing only what the message and the headers'
//! text need — the key's pads and the 64-byte API key hashed once, the rest of the message
//! in one stack block, digits by pairs, hex by table, the text checked as UTF-8 once and
//! returned by value — and none of what a library must: no request checks, no header set, no
//! other scheme. apisig's `sign` does all of this and more; the table shows how far above it
//! it is.
//!
//! Shared by the criterion benchmarks (sign_verify.rs) and the callgrind loop (profile.rs).

use sha2::block_api::compress256;
use sha2::digest::array::Array;
use sha2::digest::consts::U64;

const IV: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    compress256(state, core::slice::from_ref(block));
}

pub struct Signer {
    inner: [u32; 8],
    outer: [u32; 8],
}

/// The timestamp's digits (at the end of the first 20 bytes) and the signature's hex.
pub struct Headers {
    text: [u8; 84],
    ts_len: usize,
}

impl Headers {
    pub fn timestamp(&self) -> &str {
        std::str::from_utf8(&self.text[20 - self.ts_len..20]).unwrap()
    }
    pub fn signature(&self) -> &str {
        std::str::from_utf8(&self.text[20..]).unwrap()
    }
}

impl Signer {
    /// `api_key` must be one block long (64 bytes) and `secret` at most one block, as the
    /// benchmarks' are (a longer secret would first be hashed; the floor does not).
    pub fn new(api_key: &str, secret: &[u8]) -> Signer {
        let (mut ipad, mut opad) = ([0x36u8; 64], [0x5cu8; 64]);
        for (i, k) in secret.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let (mut inner, mut outer) = (IV, IV);
        compress(&mut inner, &ipad);
        compress(&mut inner, api_key.as_bytes().try_into().unwrap());
        compress(&mut outer, &opad);
        Signer { inner, outer }
    }

    pub fn sign(&self, now: u64, method: &[u8], path: &[u8], body: &[u8]) -> Headers {
        let mut out = Headers { text: [0; 84], ts_len: 0 };
        let eight = |d: &mut [u8], v: u32| {
            let (h, l) = (v / 10_000, v % 10_000);
            d[0..2].copy_from_slice(&PAIRS[(h / 100) as usize]);
            d[2..4].copy_from_slice(&PAIRS[(h % 100) as usize]);
            d[4..6].copy_from_slice(&PAIRS[(l / 100) as usize]);
            d[6..8].copy_from_slice(&PAIRS[(l % 100) as usize]);
        };
        let top = (now / 10_000_000_000_000_000) as u32;
        out.text[0..2].copy_from_slice(&PAIRS[(top / 100) as usize]);
        out.text[2..4].copy_from_slice(&PAIRS[(top % 100) as usize]);
        eight(&mut out.text[4..12], ((now / 100_000_000) % 100_000_000) as u32);
        eight(&mut out.text[12..20], (now % 100_000_000) as u32);
        out.ts_len = now.checked_ilog10().map_or(1, |l| l as usize + 1);
        let ts = &out.text[20 - out.ts_len..20];

        // "," ts "," method "," path "," then the body, after the key's block.
        let mut state = self.inner;
        let mut block = [0u8; 64];
        let mut pos = 0;
        for piece in [&b","[..], ts, b",", method, b",", path, b","] {
            block[pos..pos + piece.len()].copy_from_slice(piece);
            pos += piece.len();
        }
        let len = 128 + pos + body.len();
        let (head, rest) = body.split_at((64 - pos).min(body.len()));
        block[pos..pos + head.len()].copy_from_slice(head);
        pos += head.len();
        if pos == 64 {
            compress(&mut state, &block);
            let (whole, tail) = Array::<u8, U64>::slice_as_chunks(rest);
            compress256(&mut state, Array::cast_slice_to_core(whole));
            block[..tail.len()].copy_from_slice(tail);
            pos = tail.len();
        }
        block[pos] = 0x80;
        block[pos + 1..].fill(0);
        if pos >= 56 {
            compress(&mut state, &block);
            block = [0; 64];
        }
        block[56..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
        compress(&mut state, &block);
        let mut block = [0u8; 64];
        for (d, w) in block.chunks_exact_mut(4).zip(state) {
            d.copy_from_slice(&w.to_be_bytes());
        }
        block[32] = 0x80;
        block[56..].copy_from_slice(&(96u64 * 8).to_be_bytes());
        let mut tag = self.outer;
        compress(&mut tag, &block);
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (pair, b) in out.text[20..].chunks_exact_mut(2).zip(tag.iter().flat_map(|w| w.to_be_bytes())) {
            pair.copy_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        }
        if std::str::from_utf8(&out.text).is_err() {
            out.ts_len = 0;
        }
        out
    }
}
