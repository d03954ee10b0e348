//! Per-visit scoring: candidate child edge groups by type, best-k selection.

use crate::graph::{EdgeId, TypeId};
use crate::policy::{Preference, introsort};

/// One candidate edge inside an edge group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalEdge {
    /// Units available below the edge.
    pub count: u32,
    /// Units to take if chosen.
    pub needs: u32,
    /// Exclusive claim.
    pub exclusive: bool,
    /// The edge (None for the virtual root edge).
    pub edge: Option<EdgeId>,
}

/// A group of edges scored as one candidate (a child vertex, or a packed slot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EGroup {
    /// Policy score.
    pub score: i64,
    /// Units the group offers.
    pub count: u32,
    /// Units chosen from it by best-k.
    pub needs: u32,
    /// Exclusive claim.
    pub exclusive: bool,
    /// The virtual root group (never enforced).
    pub root: bool,
    /// Slot label, for slot groups.
    pub label: String,
    /// The edges.
    pub edges: Vec<EvalEdge>,
}

/// All groups of one resource type.
#[derive(Debug, Clone)]
pub struct Evals {
    /// The type.
    pub ty: TypeId,
    /// Candidate groups (sorted after a best-k choice).
    pub groups: Vec<EGroup>,
    qual_count: u32,
    total_count: u32,
    best_k: u32,
    best_i: usize,
}

impl Evals {
    fn new(ty: TypeId) -> Self {
        Self {
            ty,
            groups: Vec::new(),
            qual_count: 0,
            total_count: 0,
            best_k: 0,
            best_i: 0,
        }
    }

    fn add(&mut self, g: EGroup) {
        self.total_count += g.count;
        if g.score > 0 {
            self.qual_count += g.count;
        }
        self.groups.push(g);
    }

    /// Sorts by the policy and marks the first groups covering `k` units; false if `k`
    /// is 0 or exceeds the qualified count.
    fn choose_best_k(&mut self, k: u32, pref: Preference) -> bool {
        self.choose_best_k_by(k, &|a: &EGroup, b: &EGroup| pref.better(a.score, b.score))
    }

    /// [`Self::choose_best_k`] with an arbitrary "sorts before" comparator.
    fn choose_best_k_by(&mut self, k: u32, before: &dyn Fn(&EGroup, &EGroup) -> bool) -> bool {
        if k == 0 || k > self.qual_count {
            return false;
        }
        introsort(&mut self.groups, &|a: &EGroup, b: &EGroup| before(a, b));
        let mut left = k as i64;
        let mut i = 0;
        while left > 0 && i < self.groups.len() {
            let c = self.groups[i].count as i64;
            self.groups[i].needs = left.min(c) as u32;
            left -= c;
            i += 1;
        }
        self.best_k = k;
        self.best_i = i;
        true
    }
}

/// The scoring state of one visit (`scoring_api_t`).
#[derive(Debug, Clone, Default)]
pub struct Scoring {
    evals: Vec<Evals>,
    hier_constrain_now: bool,
    /// Score handed from a child visit to its parent.
    pub overall: i64,
    /// Availability handed from a child visit to its parent.
    pub avail: u32,
}

impl Scoring {
    /// An empty scoring object (overall score -1 as in the C++ default).
    pub fn new() -> Self {
        Self {
            overall: -1,
            ..Self::default()
        }
    }

    fn evals_mut(&mut self, ty: TypeId) -> &mut Evals {
        match self.evals.iter().position(|e| e.ty == ty) {
            Some(i) => &mut self.evals[i],
            None => {
                self.evals.push(Evals::new(ty));
                let last = self.evals.len() - 1;
                &mut self.evals[last]
            }
        }
    }

    /// The groups of `ty`, if any were added.
    pub fn get(&self, ty: TypeId) -> Option<&Evals> {
        self.evals.iter().find(|e| e.ty == ty)
    }

    /// Adds a candidate group of type `ty`.
    pub fn add(&mut self, ty: TypeId, g: EGroup) {
        self.evals_mut(ty).add(g);
    }

    /// Units of `ty` offered by groups with a positive score.
    pub fn qualified_count(&self, ty: TypeId) -> u32 {
        self.get(ty).map(|e| e.qual_count).unwrap_or(0)
    }

    /// Units of `ty` offered by all groups.
    pub fn total_count(&self, ty: TypeId) -> u32 {
        self.get(ty).map(|e| e.total_count).unwrap_or(0)
    }

    /// The best-k of `ty` (0 = no choice made).
    pub fn best_k(&self, ty: TypeId) -> u32 {
        self.get(ty).map(|e| e.best_k).unwrap_or(0)
    }

    /// Whether `ty` has any entry (even an empty one).
    pub fn contains(&self, ty: TypeId) -> bool {
        self.get(ty).is_some()
    }

    /// Types present, in insertion order.
    pub fn types(&self) -> Vec<TypeId> {
        self.evals.iter().map(|e| e.ty).collect()
    }

    /// Whether a best-k choice was made at this level (so it must be enforced here).
    pub fn hier_constrain_now(&self) -> bool {
        self.hier_constrain_now
    }

    /// Chooses the best `k` units of `ty`.
    pub fn choose_best_k(&mut self, ty: TypeId, k: u32, pref: Preference) {
        if self.evals_mut(ty).choose_best_k(k, pref) {
            self.hier_constrain_now = true;
        }
    }

    /// Chooses the best `k` units of `ty` under a custom comparator (locality policy).
    pub fn choose_best_k_by(
        &mut self,
        ty: TypeId,
        k: u32,
        before: &dyn Fn(&EGroup, &EGroup) -> bool,
    ) {
        if self.evals_mut(ty).choose_best_k_by(k, before) {
            self.hier_constrain_now = true;
        }
    }

    /// Scores of all groups of `ty`.
    pub fn scores(&self, ty: TypeId) -> Vec<i64> {
        self.get(ty)
            .map(|e| e.groups.iter().map(|g| g.score).collect())
            .unwrap_or_default()
    }

    /// Sorts all groups of `ty` and chooses every qualified unit.
    pub fn choose_all(&mut self, ty: TypeId, pref: Preference) {
        let e = self.evals_mut(ty);
        let k = e.qual_count;
        if e.choose_best_k(k, pref) {
            self.hier_constrain_now = true;
        }
    }

    /// The chosen groups (`best_i` first groups) of `ty`.
    pub fn chosen(&self, ty: TypeId) -> &[EGroup] {
        match self.get(ty) {
            Some(e) if e.best_k > 0 => &e.groups[..e.best_i],
            _ => &[],
        }
    }

    /// Appends all of `other`'s groups.
    pub fn merge(&mut self, other: Scoring) {
        for e in other.evals {
            let mine = self.evals_mut(e.ty);
            mine.qual_count += e.qual_count;
            mine.total_count += e.total_count;
            mine.groups.extend(e.groups);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(score: i64, count: u32) -> EGroup {
        EGroup {
            score,
            count,
            needs: 0,
            exclusive: false,
            root: false,
            label: String::new(),
            edges: Vec::new(),
        }
    }

    #[test]
    fn best_k_takes_whole_groups_in_policy_order() {
        let high = Preference::High;
        let t = TypeId(3);
        let mut s = Scoring::new();
        s.add(t, group(5, 2));
        s.add(t, group(9, 2));
        s.add(t, group(0, 7));
        assert_eq!(s.qualified_count(t), 4);
        assert_eq!(s.total_count(t), 11);
        s.choose_best_k(t, 3, high);
        assert!(s.hier_constrain_now());
        let chosen = s.chosen(t);
        assert_eq!(chosen.len(), 2);
        assert_eq!((chosen[0].score, chosen[0].needs), (9, 2));
        assert_eq!((chosen[1].score, chosen[1].needs), (5, 1));
    }

    #[test]
    fn impossible_choice_is_ignored() {
        let low = Preference::Low;
        let t = TypeId(0);
        let mut s = Scoring::new();
        s.add(t, group(1, 1));
        s.choose_best_k(t, 2, low);
        assert!(!s.hier_constrain_now());
        assert_eq!(s.best_k(t), 0);
        let mut p = Scoring::new();
        p.merge(s);
        assert_eq!(p.qualified_count(t), 1);
    }
}
