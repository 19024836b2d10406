//! A bounded FIFO that evicts its oldest entry when full. Allocated once.

/// Holds the `capacity` most recent entries, oldest first.
#[derive(Clone, Debug)]
pub(super) struct Ring<T> {
    entries: Vec<T>,
    /// Index of the oldest entry.
    head: usize,
    len: usize,
}

impl<T: Copy> Ring<T> {
    /// A ring for `capacity` entries; `fill` initialises storage and is never observed.
    pub fn new(capacity: usize, fill: T) -> Self {
        Ring { entries: vec![fill; capacity], head: 0, len: 0 }
    }

    #[inline]
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends `item`; when full, first evicts and returns the oldest entry. With zero
    /// capacity nothing is kept and `item` itself is returned.
    pub fn push(&mut self, item: T) -> Option<T> {
        let cap = self.capacity();
        if cap == 0 {
            return Some(item);
        }
        if self.len < cap {
            self.entries[(self.head + self.len) % cap] = item;
            self.len += 1;
            None
        } else {
            let evicted = std::mem::replace(&mut self.entries[self.head], item);
            self.head = (self.head + 1) % cap;
            Some(evicted)
        }
    }

    /// The entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        let cap = self.capacity();
        (0..self.len).map(move |i| &self.entries[(self.head + i) % cap])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_first() {
        let mut r = Ring::new(2, 0u32);
        assert_eq!(r.push(1), None);
        assert_eq!(r.push(2), None);
        assert_eq!(r.push(3), Some(1));
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2, 3]);
        let mut empty = Ring::new(0, 0u32);
        assert_eq!(empty.push(7), Some(7));
        assert_eq!(empty.len(), 0);
    }
}
