//! Java injection: Log4Shell lookups, OGNL and SpEL expressions, reflection into
//! `java.lang.Runtime`, Spring's class-loader binding, and serialized Java objects.

use std::sync::LazyLock;

use super::rules::{Rule, RuleSet, rule};
use super::targets::Target;
use super::{Family, Findings};

static RULES: &[Rule] = &[
    rule(
        "java-jndi-lookup",
        10,
        r"\$\{[^}]{0,40}?(?:jndi|\$\{[^}]*\}j|j\$\{|lower:j|upper:j|::-j)|\$\{\s*(?:jndi|ctx|env|sys|java|lower|upper|date|main|bundle|docker|k8s|spring|log4j|base64|marker|sd|web)\s*:",
    ),
    rule(
        "java-runtime-exec",
        10,
        r"\bjava\.lang\.(?:runtime|processbuilder|process|system|class|thread|reflect)\b|\bgetruntime\s*\(\s*\)\s*\.\s*exec\b|\bnew\s+java\.\w+|\bt\s*\(\s*java\.|\bprocessbuilder\s*\(",
    ),
    rule(
        "java-ognl",
        9,
        r"#_memberaccess|@ognl|\bognlcontext\b|%\{\s*[#(@]|\$\{\s*#|#context\s*\[|\.getclass\s*\(\s*\)\s*\.\s*forname|@java\.|#(?:request|response|session|application|attr|parameters)\s*[\[.]",
    ),
    rule(
        "java-class-loader",
        9,
        r"\bclass\.(?:module\.)?classloader\b|\bclassloader\.(?:resources|urls|parent)\b|\bspring\.cloud\.function\.routing-expression\b",
    ),
    rule(
        "java-serialized-object",
        9,
        r"\baced0005|\bro0ab[a-z0-9+/]|\bh4sia{3}|\b(?:org\.apache\.commons\.collections|com\.sun\.org\.apache\.xalan|org\.springframework\.beans\.factory|com\.mchange\.v2\.c3p0|java\.util\.priorityqueue|javax\.management\.badattributevalueexpexception|sun\.rmi\.server|org\.codehaus\.groovy\.runtime)\b",
    ),
    rule(
        "java-el-expression",
        8,
        r#"\$\{\s*(?:\w+\.)*(?:getclass|forname|getmethod|invoke|newinstance|exec|getruntime)\b|\brequest\.getparameter\s*\(|\bscript(?:engine|enginemanager)\b|\bjavax\.(?:script|naming)\b"#,
    ),
];

static SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::JavaInjection, RULES));

/// Matches a target against the Java injection rules.
pub(crate) fn inspect(target: &Target, out: &mut Findings) {
    let text = target.text.as_str();
    if !text
        .bytes()
        .any(|b| matches!(b, b'$' | b'.' | b'#' | b'%' | b'@' | b'('))
        && !text.contains("aced")
        && !text.contains("ro0ab")
        && !text.contains("h4sia")
    {
        return;
    }
    if let Some(set) = SET.as_ref() {
        set.scan(target, text, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_compile() {
        assert_compiles(SET.as_ref(), RULES);
    }
}
