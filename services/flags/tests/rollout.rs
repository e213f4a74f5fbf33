//! Percentage rollouts over many users: sticky per user, and split within 1 % of the weights.

use flags::domain::Weighted;
use flags::evaluate::fractional;
use proptest::prelude::*;

fn slices(weights: &[u32]) -> Vec<Weighted> {
    weights.iter().enumerate().map(|(i, w)| Weighted { variation: format!("v{i}"), weight: *w }).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn splits_follow_the_weights_within_one_percent(
        weights in prop::collection::vec(1u32..100, 2..5),
        flag in "[a-z][a-z0-9_-]{0,20}",
    ) {
        let slices = slices(&weights);
        let total: u32 = weights.iter().sum();
        let mut counts = vec![0usize; weights.len()];
        let users = 100_000;
        for n in 0..users {
            let v = fractional(&flag, &format!("user-{n}@example.com"), &slices).expect("a variation");
            let i: usize = v[1..].parse().expect("index");
            counts[i] += 1;
        }
        for (i, w) in weights.iter().enumerate() {
            let expected = f64::from(*w) / f64::from(total);
            let got = counts[i] as f64 / users as f64;
            prop_assert!((got - expected).abs() < 0.01, "slice {i}: {got:.4} for weight {expected:.4}");
        }
    }

    #[test]
    fn a_user_always_gets_the_same_variation(user in ".{0,40}", flag in "[a-z]{1,10}") {
        let slices = slices(&[10, 20, 70]);
        let first = fractional(&flag, &user, &slices);
        prop_assert!(first.is_some());
        for _ in 0..3 {
            prop_assert_eq!(fractional(&flag, &user, &slices), first);
        }
        // The same user may land elsewhere for another flag, but always the same there too.
        let other = format!("{flag}-other");
        prop_assert_eq!(fractional(&other, &user, &slices), fractional(&other, &user, &slices));
    }
}
