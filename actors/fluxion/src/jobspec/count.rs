//! Resource counts: fixed or `{min, max, operator, operand}` ranges (RFC 14).

/// A count: fixed (`min == max`) or a range with an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Lower bound (>= 1).
    pub min: u32,
    /// Upper bound (`u32::MAX` when open).
    pub max: u32,
    /// `+`, `*` or `^`.
    pub oper: char,
    /// Operand of `oper`.
    pub operand: u32,
}

impl Count {
    /// A fixed count.
    pub fn fixed(n: u32) -> Self {
        Self {
            min: n,
            max: n,
            oper: '+',
            operand: 1,
        }
    }

    /// How many to take when `qc` qualified units are available (0 = not enough).
    pub fn select(&self, qc: u32) -> u32 {
        if self.min > self.max || self.min > qc {
            return 0;
        }
        if self.min == self.max {
            return self.min;
        }
        let cap = qc.min(self.max);
        match self.oper {
            '*' => Self::grow(self.min, cap, |c| c.checked_mul(self.operand)),
            '^' => Self::grow(self.min, cap, |c| c.checked_pow(self.operand)),
            _ => {
                let operand = self.operand.max(1);
                cap - (cap - self.min) % operand
            }
        }
    }

    fn grow(min: u32, cap: u32, step: impl Fn(u32) -> Option<u32>) -> u32 {
        let mut c = min;
        while let Some(n) = step(c) {
            if n > cap || n <= c {
                break;
            }
            c = n;
        }
        c
    }

    /// The count with unlimited availability.
    pub fn effective_max(&self) -> u32 {
        self.select(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_selection() {
        let plus = Count {
            min: 2,
            max: 10,
            oper: '+',
            operand: 3,
        };
        assert_eq!(plus.select(1), 0);
        assert_eq!(plus.select(7), 5);
        assert_eq!(plus.select(100), 8);
        let mul = Count {
            min: 2,
            max: 100,
            oper: '*',
            operand: 2,
        };
        assert_eq!(mul.select(20), 16);
        let pow = Count {
            min: 2,
            max: 100,
            oper: '^',
            operand: 2,
        };
        assert_eq!(pow.select(20), 16);
        assert_eq!(Count::fixed(4).select(10), 4);
        assert_eq!(Count::fixed(4).effective_max(), 4);
    }
}
