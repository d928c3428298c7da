//! Ready-made models: the etcd compare-and-set register, the classic Put/Append/Get
//! key-value store (partitioned by key or not), and the 2025 versioned key-value store.

pub mod etcd;
pub mod kv;
pub mod kv_versioned;

/// Groups operation indices by a key, keys in ascending order, each group keeping the
/// history's order.
pub(crate) fn partition_by_key<'h, T: 'h>(
    items: impl Iterator<Item = &'h T>,
    key: impl Fn(&'h T) -> &'h str,
) -> Vec<Vec<usize>> {
    let mut groups: std::collections::BTreeMap<&'h str, Vec<usize>> = Default::default();
    for (index, item) in items.enumerate() {
        groups.entry(key(item)).or_default().push(index);
    }
    groups.into_values().collect()
}
