//! Entries addressed by a small integer that travels in a question's token:
//! finished entries leave holes that new ones reuse, so ids stay below the
//! peak number of live entries.

pub struct Slab<T> {
    entries: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    pub fn with_capacity(capacity: usize) -> Self {
        Slab {
            entries: Vec::with_capacity(capacity),
            free: Vec::new(),
        }
    }

    pub fn insert(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = Some(value);
                id
            }
            None => {
                self.entries.push(Some(value));
                (self.entries.len() - 1) as u32
            }
        }
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        self.entries.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// Removes the entry; its id becomes free.
    pub fn take(&mut self, id: u32) -> Option<T> {
        let value = self.entries.get_mut(id as usize).and_then(Option::take)?;
        self.free.push(id);
        Some(value)
    }

    /// Entries the slab holds without reallocating.
    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_reused_after_take() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        let b = slab.insert("b");
        assert_ne!(a, b);
        assert_eq!(slab.take(a), Some("a"));
        assert_eq!(slab.take(a), None, "taken once");
        assert_eq!(slab.insert("c"), a, "the hole is reused");
        assert_eq!(slab.get_mut(b).map(|v| *v), Some("b"));
        assert_eq!(slab.len(), 2);
        assert!(slab.get_mut(99).is_none());
    }
}
