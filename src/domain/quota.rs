//! An offer's total quota, split into shards that concurrent redemptions count on side
//! by side (`db::quota`). Each shard may hand out what it was granted; the grants add
//! up to the quota, so the shards together never hand out more than the quota.

/// Shards per offer with a quota.
pub const SHARDS: usize = 16;

/// The grants of `SHARDS` shards that have used `used` (one entry per shard) when the
/// quota is `total`: each keeps what it used, plus an even share of what is left (the
/// first shards one more). `None` when more than `total` is used already.
pub fn regrant(total: i64, used: &[i64]) -> Option<Vec<i64>> {
    let spent: i64 = used.iter().sum();
    let left = total.checked_sub(spent).filter(|l| *l >= 0)?;
    let n = used.len().max(1) as i64;
    Some(
        used.iter()
            .enumerate()
            .map(|(i, u)| u + left / n + i64::from((i as i64) < left % n))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_add_up_to_the_quota_and_keep_what_each_shard_used() {
        for total in [0, 1, 15, 16, 17, 500, 1_000_003] {
            let grants = regrant(total, &[0; SHARDS]).unwrap();
            assert_eq!(grants.iter().sum::<i64>(), total);
            let (min, max) = (grants.iter().min().unwrap(), grants.iter().max().unwrap());
            assert!(max - min <= 1, "{grants:?}");
        }
        let mut used = [0; SHARDS];
        used[3] = 7;
        used[9] = 2;
        let grants = regrant(40, &used).unwrap();
        assert_eq!(grants.iter().sum::<i64>(), 40);
        assert!(grants.iter().zip(used).all(|(g, u)| *g >= u));
        assert_eq!(grants[3], 7 + 2);
        assert_eq!(regrant(8, &used), None, "9 used, a quota of 8");
        assert_eq!(regrant(9, &used).unwrap().iter().sum::<i64>(), 9);
    }
}
