//! Unit tests of the word semantics.

use super::*;

fn u(x: u64) -> U256 {
    U256::from(x)
}
fn minus(x: u64) -> U256 {
    neg(U256::from(x))
}

#[test]
fn keccak_memo_returns_the_hash_of_exactly_its_input() {
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), vec![0; 32], vec![0; 31], vec![0; 64]];
    for i in 0..12u8 {
        inputs.push(vec![i; 32]);
        inputs.push([vec![i; 32], vec![1; 32]].concat());
    }
    // One too long to remember.
    inputs.push(vec![7; 65]);
    // Repeats, interleavings and more distinct inputs than entries.
    for round in 0..3 {
        for (k, x) in inputs.iter().enumerate() {
            if (k + round) % 2 == 0 {
                assert_eq!(keccak256_memo(x), keccak256(x));
            }
            assert_eq!(keccak256_memo(x), keccak256(x));
            assert_eq!(keccak256_memo(&inputs[0]), keccak256(&inputs[0]));
        }
    }
}

#[test]
fn keccak_matches_alloy() {
    for n in [0usize, 1, 31, 32, 64, 135, 136, 137, 1000] {
        let data: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(
            keccak256(&data),
            alloy_primitives::keccak256(&data),
            "{n} bytes"
        );
    }
}

#[test]
fn power_of_two_fast_paths_match_the_general_ones() {
    let wide = [
        U256::MAX,
        SIGN_BIT + u(12345),
        U256::from(u128::MAX) * u(3),
        u(5),
    ];
    for k in [0usize, 1, 63, 64, 127, 128, 200, 255] {
        let p = U256::from(1) << k;
        for a in wide {
            assert_eq!(
                div(a, p),
                a.checked_div(p).unwrap_or_default(),
                "{a} / 2^{k}"
            );
            assert_eq!(
                rem(a, p),
                a.checked_rem(p).unwrap_or_default(),
                "{a} % 2^{k}"
            );
        }
        assert_eq!(exp(u(2), u(k as u64)), u(2).wrapping_pow(u(k as u64)));
    }
    for n in [u(256), u(257), U256::MAX, SIGN_BIT] {
        assert_eq!(exp(u(2), n), u(2).wrapping_pow(n), "2^{n}");
    }
}

#[test]
fn small_signed_fast_path_matches_the_general_one() {
    let vals: Vec<U256> = [
        0i64,
        1,
        -1,
        2,
        -2,
        7,
        -7,
        i64::MAX,
        i64::MIN,
        i64::MIN + 1,
        1 << 40,
    ]
    .iter()
    .map(|&v| from_i128(i128::from(v)))
    .chain([
        SIGN_BIT,
        U256::MAX,
        U256::from(u64::MAX),
        U256::from(1u128 << 100),
    ])
    .collect();
    for &a in &vals {
        for &b in &vals {
            let general_q = if b.is_zero() {
                U256::ZERO
            } else {
                let q = div(abs(a), abs(b));
                if is_negative(&a) != is_negative(&b) {
                    neg(q)
                } else {
                    q
                }
            };
            let general_r = if b.is_zero() {
                U256::ZERO
            } else {
                let r = rem(abs(a), abs(b));
                if is_negative(&a) {
                    neg(r)
                } else {
                    r
                }
            };
            assert_eq!(sdiv(a, b), general_q, "{a} / {b}");
            assert_eq!(smod(a, b), general_r, "{a} % {b}");
        }
    }
}

#[test]
fn signed_division() {
    assert_eq!(sdiv(SIGN_BIT, U256::MAX), SIGN_BIT, "-2^255 / -1 wraps");
    assert_eq!(sdiv(minus(7), u(2)), minus(3));
    assert_eq!(sdiv(u(7), minus(2)), minus(3));
    assert_eq!(sdiv(minus(7), minus(2)), u(3));
    assert_eq!(sdiv(u(7), U256::ZERO), U256::ZERO);
    assert_eq!(smod(minus(7), u(3)), minus(1));
    assert_eq!(smod(u(7), minus(3)), u(1));
    assert_eq!(smod(SIGN_BIT, U256::MAX), U256::ZERO);
    assert_eq!(smod(u(7), U256::ZERO), U256::ZERO);
    assert_eq!(div(u(7), U256::ZERO), U256::ZERO);
    assert_eq!(rem(u(7), U256::ZERO), U256::ZERO);
}

#[test]
fn small_operand_fast_paths_match_full_division() {
    let vals = [0u64, 1, 2, 3, 7, 255, 1 << 32, u64::MAX - 1, u64::MAX];
    let wide = [U256::from(u64::MAX) + u(1), SIGN_BIT, U256::MAX];
    for &x in &vals {
        for &y in &vals {
            let (a, b) = (u(x), u(y));
            assert_eq!(div(a, b), a.checked_div(b).unwrap_or_default());
            assert_eq!(rem(a, b), a.checked_rem(b).unwrap_or_default());
        }
        for w in wide {
            assert_eq!(div(w, u(x)), w.checked_div(u(x)).unwrap_or_default());
            assert_eq!(div(u(x), w), U256::ZERO);
            assert_eq!(rem(u(x), w), u(x));
            assert_eq!(sdiv(neg(u(x)), u(3)), neg(u(x / 3)));
        }
    }
    // The 128-bit path, against the general division.
    let mid = [
        U256::from(u64::MAX) + u(1),
        U256::from(10u128.pow(36) + 7),
        U256::from(u128::MAX),
        U256::from(u128::MAX - 1),
        // High limb just under 64-bit divisors: the largest quotients of one 128-by-64
        // hardware division.
        U256::from((u128::from(u64::MAX - 2) << 64) | u128::from(u64::MAX)),
    ];
    for &x in mid.iter().chain(&vals.map(u)) {
        for &y in mid.iter().chain(&vals.map(u)) {
            assert_eq!(div(x, y), x.checked_div(y).unwrap_or_default());
            assert_eq!(rem(x, y), x.checked_rem(y).unwrap_or_default());
        }
    }
}

#[test]
fn modular() {
    assert_eq!(
        addmod(U256::MAX, u(2), u(10)),
        (U256::MAX % u(10) + u(2)) % u(10)
    );
    assert_eq!(addmod(u(1), u(2), U256::ZERO), U256::ZERO);
    assert_eq!(mulmod(U256::MAX, U256::MAX, u(12)), u(9));
    assert_eq!(mulmod(u(5), u(5), U256::ZERO), U256::ZERO);
    assert_eq!(exp(u(2), u(255)), SIGN_BIT);
    assert_eq!(exp(u(2), u(256)), U256::ZERO);
    assert_eq!(exp(U256::ZERO, U256::ZERO), u(1));
}

#[test]
fn bits() {
    assert_eq!(signextend(U256::ZERO, u(0xff)), U256::MAX);
    assert_eq!(signextend(U256::ZERO, u(0x7f)), u(0x7f));
    assert_eq!(signextend(u(1), u(0x80ff)), U256::MAX - u(0x7f00));
    assert_eq!(signextend(u(31), u(5)), u(5));
    assert_eq!(signextend(U256::MAX, u(0xff)), u(0xff));
    assert_eq!(byte(u(31), u(0xab)), u(0xab));
    assert_eq!(byte(U256::ZERO, SIGN_BIT), u(0x80));
    assert_eq!(byte(u(32), U256::MAX), U256::ZERO);
    assert_eq!(shl(u(255), u(1)), SIGN_BIT);
    assert_eq!(shl(u(256), u(1)), U256::ZERO);
    assert_eq!(shr(u(255), SIGN_BIT), u(1));
    assert_eq!(shr(U256::MAX, U256::MAX), U256::ZERO);
    assert_eq!(sar(u(255), SIGN_BIT), U256::MAX);
    assert_eq!(sar(u(300), SIGN_BIT), U256::MAX);
    assert_eq!(sar(u(300), u(5)), U256::ZERO);
    assert_eq!(sar(u(1), minus(4)), minus(2));
    assert!(slt(&minus(1), &u(0)));
    assert!(!slt(&u(0), &minus(1)));
    assert!(slt(&minus(2), &minus(1)));
    assert_eq!(clz(U256::ZERO), u(256));
    assert_eq!(clz(SIGN_BIT), U256::ZERO);
    assert_eq!(clz(u(1)), u(255));
    assert_eq!(byte_len(&U256::ZERO), 0);
    assert_eq!(byte_len(&u(256)), 2);
    assert_eq!(byte_len(&U256::MAX), 32);
}

#[test]
fn addresses() {
    let a = Address::repeat_byte(0xcc);
    assert_eq!(to_address(from_address(a)), a);
    assert_eq!(to_address(U256::MAX), Address::repeat_byte(0xff));
}
