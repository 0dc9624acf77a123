//! The rule engine: a family's rules compiled once into one `RegexSet` (one pass over
//! a value tells which rules match) plus one `Regex` per rule (run only for the rules
//! that matched, to cut the evidence).

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::targets::Target;
use super::{Family, Findings};

/// One rule: a stable name, a pattern over decoded lowercase text, a weight (1..=10).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    pub(crate) name: &'static str,
    pub(crate) pattern: &'static str,
    pub(crate) weight: u8,
}

/// Shorthand for the rule tables.
pub(crate) const fn rule(name: &'static str, weight: u8, pattern: &'static str) -> Rule {
    Rule {
        name,
        pattern,
        weight,
    }
}

/// A family's compiled rules.
#[derive(Debug)]
pub(crate) struct RuleSet {
    family: Family,
    rules: &'static [Rule],
    set: RegexSet,
    each: Vec<Regex>,
}

/// Compiled-size limit per pattern; generous, the patterns are ours.
const SIZE_LIMIT: usize = 8 << 20;

impl RuleSet {
    /// Compiles a table. A pattern that does not compile is a bug caught by each
    /// family's tests; at run time the family then has no rules rather than a panic.
    pub(crate) fn compile(family: Family, rules: &'static [Rule]) -> Option<Self> {
        let set = RegexSetBuilder::new(rules.iter().map(|r| r.pattern))
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT)
            .build()
            .ok()?;
        let each = rules
            .iter()
            .map(|r| {
                RegexBuilder::new(r.pattern)
                    .size_limit(SIZE_LIMIT)
                    .build()
                    .ok()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            family,
            rules,
            set,
            each,
        })
    }

    /// Matches `text` (a view of `target`) and records a finding per matching rule.
    pub(crate) fn scan(&self, target: &Target, text: &str, out: &mut Findings) {
        for i in self.set.matches(text).iter() {
            let (Some(rule), Some(re)) = (self.rules.get(i), self.each.get(i)) else {
                continue;
            };
            if rule.weight < target.min_weight {
                continue;
            }
            let evidence = re.find(text).map_or(text, |m| m.as_str());
            out.push(
                self.family,
                rule.name,
                target.location,
                evidence,
                rule.weight,
            );
        }
    }
}

/// Asserts a table compiles and each rule matches its own example (test helper).
#[cfg(test)]
pub(crate) fn assert_compiles(set: Option<&RuleSet>, rules: &[Rule]) {
    assert!(set.is_some(), "a rule of this family does not compile");
    for r in rules {
        assert!(
            Regex::new(r.pattern).is_ok(),
            "rule {} does not compile",
            r.name
        );
        assert!((1..=10).contains(&r.weight), "rule {} weight", r.name);
    }
}
