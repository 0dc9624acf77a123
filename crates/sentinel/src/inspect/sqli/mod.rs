//! SQL injection: a string or number that is closed early and continued as SQL.
//!
//! Words such as "select", "union", "drop" and "or" are everywhere in clinical notes,
//! so no rule fires on a word alone. A rule wants SQL *syntax*: a quote followed by a
//! boolean operator and a comparison (`' OR 'a'='a`), `UNION SELECT`, a statement after
//! a `;`, a comment that cuts the rest of a query after a quote, or names that only SQL
//! uses (`information_schema`, `pg_sleep(`, `xp_cmdshell`).
//!
//! The text is matched twice: as decoded ([`RAW_RULES`], for comment tricks) and with
//! comments turned into spaces and whitespace squashed ([`RULES`]), which undoes
//! `UNION/**/SELECT` and the like.

use std::sync::LazyLock;

use regex::Regex;

mod syntax;

use super::rules::{Rule, RuleSet, rule};
use super::targets::{Context, Target, TargetKind};
use super::{Family, Findings};
pub(crate) use syntax::is_catalog_name;
use syntax::{is_sql_punct, literal_tautology, split_keyword, symbols, view};

/// An identifier, quoted or not (`users`, `` `users` ``, `"users"`, `[users]`, `db.t`).
macro_rules! ident {
    () => {
        r#"[\w.`"\[\]$@#]+"#
    };
}

/// A boolean operator, as a word or a symbol.
macro_rules! boolop {
    () => {
        r"(?:\b(?:or|and|xor|div)\b|\|\||&&)"
    };
}

/// A comparison operator.
macro_rules! cmp {
    () => {
        r"(?:<=>|!=|<>|>=|<=|=|<|>|!?~\*?|\blike\b|\brlike\b|\bregexp\b|\bglob\b|\bsounds\s+like\b|\bis\b|\bbetween\b|\bin\s*\()"
    };
}

/// SQL functions probes call right after breaking out of a string.
macro_rules! probe_fn {
    () => {
        r"(?:ascii|ord|char|chr|substr|substring|mid|left|right|length|len|if|iif|case|elt|exists|select|sleep|pg_sleep|benchmark|database|user|version|concat|concat_ws|count|hex|unhex|bin|conv|cast|convert|rand|floor|updatexml|extractvalue|instr|locate|position|strcmp|coalesce|ifnull|isnull|nullif|current_user|system_user|session_user|schema|db_name|make_set|export_set|load_file|randomblob|json\w*|likelihood|sqlite_\w+|starts_with|find_in_set|regexp_substr|utl_inaddr\.\w+|dbms_\w+\.\w+)"
    };
}

/// Rules over the comment-free, whitespace-squashed view.
static RULES: &[Rule] = &[
    rule(
        "sqli-union-select",
        10,
        r"\bunion\b(?:\s*\b(?:all|distinct|distinctrow)\b)?[\s(]*select\b",
    ),
    rule(
        "sqli-tautology",
        10,
        concat!(
            r#"(?:['"`)]|\b\d+|^)\s*"#,
            boolop!(),
            r#"\s*[(\s]*(?:['"`][^'"`]*['"`]|['"`]?[-+]?[\w.@$\[\]]+['"`]?)\)*\s*"#,
            cmp!(),
            r#"\s*[('"`]*[-+\w@'"`]"#
        ),
    ),
    rule("sqli-glued-boolean", 8, r#"['"](?:or|and|xor|div)['"(]"#),
    rule(
        "sqli-comment-after-operator",
        7,
        r#"['"`]\s*(?:[-+|^&<>=*/%!]|\b(?:is|not|like|glob|or|and|xor)\b)[^'"@~\n]*?(?:--|#)\s*-?\s*$|\b(?:or|and|xor)\s+\d+\s*(?:--|#)\s*-?\s*$"#,
    ),
    rule(
        "sqli-keyword-then-comment",
        7,
        r"\b(?:drop|delete|truncate|select|update|insert|alter|exec|union|where)\b[^;]{0,60};\s*(?:--|#)",
    ),
    rule(
        "sqli-statement-fragment",
        7,
        concat!(
            r#"\bselect\s+(?:pg_sleep|sleep\s*\(|benchmark\s*\(|i?if\s*\(|\(\s*(?:case|select)\b|case\s+when\b|@@\w|(?:user|version|database|current_user)\s*\()"#,
            r#"|\bvalues\s*\(\s*['"][^'"]*['"]\s*,|\bexecute\s+immediate\b|\bdeclare\s+@\w|\bexec(?:ute)?\s*\(\s*@"#,
            r#"|\bhaving\s+(?:count|sum|avg|min|max)\s*\(|\bprocedure\s+analyse\b|;\s*(?:truncate|shutdown)\b"#,
            r#"|`\w+`\s*\.\s*`\w+`|(?:\)|`|\b\d+)\s*as\s+[\w`"']+\s+from\b"#,
            r#"|(?:\bconcat\w*\s*\(|\bunhex\s*\(|\bselect\s+|,)\s*0x[0-9a-f]{4,}\b"#,
            r#"|['"]\s*(?:->>?|#>>?|@>|<@|\?\||\?&)\s*['"]"#
        ),
    ),
    rule(
        "sqli-always-true",
        8,
        concat!(
            boolop!(),
            r#"\s*\(?\s*['"]?\d+['"]?\s*(?:=|<>|!=|<|>)\s*['"]?\d+['"]?(?:\s*\)?\s*(?:--|#|;|$|\bor\b|\band\b))"#
        ),
    ),
    rule(
        "sqli-quote-terminator",
        8,
        r#"['"`]\s*\)*\s*(?:;\s*)?(?:--(?:[\s\-+]|$)|#\s*$|;\s*$|%00|\x00)"#,
    ),
    rule(
        "sqli-boolean-function",
        8,
        concat!(
            r#"(?:['"`)]|\b\d+)\s*"#,
            boolop!(),
            r"\s*\(?\s*(?:not\s+)?",
            probe_fn!(),
            r"\s*\("
        ),
    ),
    rule(
        "sqli-stacked-query",
        8,
        concat!(
            r#"['"`]\s*;\s*select\b|(?:['"`)\d]|^)\s*;\s*(?:"#,
            r"(?:drop|truncate|alter)\s+(?:table|database|schema|view|procedure|function|user|index)\b",
            r"|insert\s+into\b|delete\s+from\b|update\s+",
            ident!(),
            r"\s+set\b|exec(?:ute)?\s+\w|declare\s+@|shutdown\b|waitfor\s+(?:delay|time)\b",
            r"|create\s+(?:table|user|function|procedure|database)\b|select\s+(?:\*|null\b|\d|@@|\w+\s*\()|set\s+@|grant\s|revoke\s|call\s+\w+\s*\()"
        ),
    ),
    rule(
        "sqli-time-function",
        9,
        r#"\b(?:sleep|pg_sleep)\s*\(\s*(?:\d+(?:\.\d+)?|@\w+|\(\s*select\b[^)]*\)?)\s*\)|\b(?:pg_sleep|benchmark|randomblob)\s*\(\s*[\d(@]|\bwaitfor\s+(?:delay|time)\s+['"\d]|\bdbms_(?:pipe|lock)\.\w+\s*\("#,
    ),
    rule(
        "sqli-error-function",
        9,
        r"\b(?:extractvalue|updatexml|xmltype|utl_inaddr\.\w+|utl_http\.\w+|load_file|sys_eval|sys_exec|exp\s*\(\s*~|geometrycollection|multipoint|polygon)\s*\(",
    ),
    rule(
        "sqli-catalog",
        9,
        r"\b(?:information_schema|sqlite_master|sqlite_schema|sqlite_temp_master|pg_catalog|pg_shadow|pg_user|pg_database|mysql\.(?:user|db)|sysobjects|syscolumns|sysdatabases|sys\.(?:tables|objects|columns|databases|sql_logins)|all_tables|all_tab_columns|user_tables|user_tab_columns|msysobjects|msysaccessobjects)\b",
    ),
    rule(
        "sqli-system-variable",
        8,
        r"@@(?:version|datadir|hostname|servername|basedir|tmpdir|identity|spid|language)\b",
    ),
    rule(
        "sqli-procedure",
        9,
        r"\b(?:xp_cmdshell|xp_regread|xp_dirtree|xp_fileexist|sp_executesql|sp_oacreate|sp_makewebtask|sp_addlogin|sp_password|openrowset|opendatasource)\b|\bexec(?:ute)?\s+(?:master\.|xp_|sp_)",
    ),
    rule(
        "sqli-file-write",
        9,
        r#"\binto\s+(?:out|dump)file\s+['"]|\bcopy\s+\w+\s+(?:from|to)\s+program\b"#,
    ),
    rule(
        "sqli-subquery",
        7,
        concat!(
            r#"(?:['"`)]|\b\d+|\b(?:or|and|where|union|having|=))\s*\(\s*select\s+(?:\*|\d|null\b|@|"#,
            probe_fn!(),
            r"\s*\(|[^)]{0,80}?\bfrom\b)"
        ),
    ),
    rule(
        "sqli-select-list",
        7,
        concat!(
            r"\bselect\s+(?:(?:all|distinct|top\s+\d+)\s+)?(?:\*\s*from\b|null\s*,|\d+\s*,\s*\d+|",
            r"(?:count|concat|concat_ws|group_concat|char|version|user|database|schema|@@\w+|table_name|column_name)\s*\(?|",
            r"[\w.`\[\]]+\s*,\s*[\w.`\[\]]+(?:\s*,\s*[\w.`\[\]]+)*\s+from\s+",
            ident!(),
            r")"
        ),
    ),
    rule(
        "sqli-select-where",
        6,
        concat!(
            r"\bselect\s+[\w.`\[\]*]+\s+from\s+",
            ident!(),
            r"\s+(?:where\s+[\w.`\[\]]+\s*(?:=|<|>|\blike\b|\bin\b)|limit\s+\d|order\s+by\s+\w+\s*(?:asc|desc|$)|group\s+by\s+\w+\s*$)"
        ),
    ),
    rule(
        "sqli-dml",
        8,
        concat!(
            r"\balter\s+table\s+",
            ident!(),
            r"\s+(?:add|drop|change|modify|rename|alter)\b|\binsert\s+into\s+",
            ident!(),
            r"\s*(?:\([^)]*\)\s*)?(?:values|select)\b|\bdelete\s+from\s+",
            ident!(),
            r"\s*(?:where\b|;|--|#|$)|\bdrop\s+(?:table|database|schema|view|procedure|function)\s+(?:if\s+exists\s+)?",
            ident!(),
            r"|\bupdate\s+",
            ident!(),
            r"\s+set\s+",
            ident!(),
            r"\s*=|\bcreate\s+(?:or\s+replace\s+)?(?:table|function|procedure|trigger|database)\s+",
            ident!(),
            r"\s*\(|\btruncate\s+table\s+",
            ident!()
        ),
    ),
    rule(
        "sqli-order-by-probe",
        7,
        r"\b(?:order|group)\s+by\s+(?:\d+|if\s*\(|case\s+when|sleep\s*\()\s*(?:[-#;),]|$)",
    ),
    rule(
        "sqli-string-concat",
        7,
        concat!(r#"['"]\s*(?:\|\||\+)\s*\(*\s*"#, probe_fn!(), r"\s*\("),
    ),
    rule(
        "sqli-quoted-call",
        7,
        concat!(
            r#"['"]\s*(?:\+|\|\||\s)\s*"#,
            probe_fn!(),
            r#"\s*\([^()]{0,40}\)\s*(?:\+|\|\||\s)\s*['"]"#
        ),
    ),
    rule(
        "sqli-json-operator",
        7,
        r#"'\s*[\[{][^']*[\]}]\s*'\s*(?:\?[|&]?|->>?|#>>?|@>|<@|[<>=])"#,
    ),
    rule(
        "sqli-char-obfuscation",
        7,
        r"\b(?:char|chr|nchar)\s*\(\s*\d+\s*(?:,\s*\d+\s*){2,}\)|(?:\b(?:char|chr)\s*\(\s*\d+\s*\)\s*(?:\+|\|\||\.)\s*){2}",
    ),
    rule(
        "sqli-case-when",
        7,
        r"\(\s*case\s+when\s+.{1,60}?\s+then\b|\bif\s*\(\s*\d+\s*=\s*\d+\s*,",
    ),
    rule(
        "sqli-cast",
        6,
        r#"['")]\s*::\s*(?:int|integer|text|jsonb?|varchar|regclass|bigint|numeric|bool)\b"#,
    ),
    rule(
        "sqli-having-probe",
        7,
        r#"['"`)\d]\s*\b(?:having|group\s+by|order\s+by|procedure\s+analyse|limit\s+\d+\s*,)\b"#,
    ),
    rule(
        "sqli-literal-comparison",
        7,
        r#"['"][^'"\s]*['"]\s*(?:!=|<>|<=>|==?)\s*['"]"#,
    ),
    rule(
        "sqli-truncated-condition",
        8,
        concat!(
            r#"['"`]\s*"#,
            boolop!(),
            r#"\s*(?:\d+\s*(?:=|<>|!=|<|>)\s*$|(?:not\s+)?(?:true|false)\b\s*(?:[;)#]|--|$))"#
        ),
    ),
    rule(
        "sqli-union-select",
        8,
        r"\b(?:except|intersect)\s+(?:all\s+)?select\s*[.(]?\s*(?:\d+\s*,|null\b|\*\s*from\b|@@)",
    ),
    rule(
        "sqli-concat-operator",
        6,
        r#"(?:\d|['"`)])\s*(?:\|\||&&)\s*(?:[a-z_][\w.]*\s*(?:[.(=<>!]|$)|\()"#,
    ),
    rule(
        "sqli-statement-fragment",
        7,
        r"^\s*from\s+[\w.`]+\s+(?:group|order)\s+by\s+[\w.`]+\s*(?:$|[,&;)]|asc\b|desc\b)",
    ),
    rule(
        "sqli-load-data",
        8,
        r"\bload\s+data\s+(?:local\s+)?infile\b|\bselect\b.{1,80}\binto\s+@",
    ),
];

/// SQL function names, for calls in structured values.
macro_rules! sql_fn {
    () => {
        r"(?:abs|acos|ascii|asin|atan2?|avg|benchmark|bin|bit_length|cast|ceil(?:ing)?|char(?:_length)?|chr|coalesce|compress|concat(?:_ws)?|conv|convert|cos|cot|count|crc32|curdate|current_(?:date|time|timestamp|user)|curtime|database|date|date_format|datediff|day|dayname|db_name|decode|default|degrees|elt|encode|exp|extractvalue|field|find_in_set|floor|format|from_base64|greatest|group_concat|hex|if|ifnull|iif|in|inet_aton|insert|instr|isnull|json\w*|last_insert_id|lcase|least|left|length|ln|load_file|local|localtime|locate|log\d*|lower|lpad|ltrim|make_set|max|md5|mid|min|minute|mod|month|name_const|now|nullif|oct|ord|password|pg_\w+|pi|position|pow(?:er)?|quarter|quote|radians|rand|randomblob|regexp_\w+|repeat|replace|reverse|right|round|row_count|rpad|rtrim|schema|second|sha[12]?|sign|sin|sleep|soundex|space|sqrt|starts_with|strcmp|str_to_date|substr(?:ing)?(?:_index)?|sum|sysdate|system_user|session_user|tan|time|timestamp|to_base64|trim|ucase|uncompress|unhex|upper|user|utl_\w+|uuid|values|version|week|weekday|year|sqlite_\w+|xmltype|updatexml|nchar|exec|execute|sys_\w+)"
    };
}

/// Rules for structured values and headers only (see [`Context`]): fragments that no
/// identifier, code, date or browser header holds, but prose might.
static STRICT_RULES: &[Rule] = &[
    rule(
        "sqli-function-fragment",
        6,
        concat!(
            r"(?:^|[^\w.$/-])",
            sql_fn!(),
            r"\s*(?:[!?|&=\]\\/'$).<>\s]{0,7})?\(",
            r#"\s*(?:$|['"`@]|select\b|\w+\s*\(|\)|\d+\s*,|[\w.]+\s*,\s*['"\w])"#
        ),
    ),
    rule(
        "sqli-boolean-fragment",
        6,
        concat!(
            r#"(?:^|^\s*\d+\s|['"`)]|^/[\w.-]+\s)\s*"#,
            boolop!(),
            r#"\s*\(?\s*!?\s*(?:[\w.@$'"`-]{1,40}\s*(?:[=<>!(,]|\bis\b|\blike\b|\bregexp\b|-\s*$)|-\s*$|\(\s*$|,)|^\s*['"`]\s*(?:or|and|xor|\|\||&&)\s+\S|^\s*(?:and|or|xor)\s+['"]\d+['"]|['"`]\s*\d+\s*(?:or|and|xor|\|\||&&)\s*\d+|\\['"`]+\s*(?:or|and|xor|union|select)\b|(?:^|['"`])\s*(?:or|and|xor|div)\s+['"]?\d+['"]?\s*$|^/[\w.-]+\s+(?:or|and|xor)\s*\(?$"#
        ),
    ),
    rule(
        "sqli-operator-fragment",
        6,
        r#"^\s*\(?\s*(?:not\s+)?(?:in\s*\(\s*(?:select\b|[-+\d'"]|\w+\s*,)|like\s+(?:null\b|['"%])|is\s+(?:not\s+)?null\b|(?:r?like|regexp|glob|xor)\s*$|between\s+\S+\s+and\b|notnull\b|isnull\b)|^\W*\)\s*(?:like|when|then|or|and|between)\b|\bcase\s+when\b.{1,60}\bthen\b|\bwhen\s+\d+\s+then\b|\bif\s*\(\s*\d+\s*=|\w+\s+like\s+['"]\s*$|['"]\s*collate\s+(?:nocase|binary|rtrim|utf8\w*|latin1\w*)\b|['"]\s*(?:not)?null\b|['"`]\s*(?:glob|regexp|rlike|sounds\s+like|mod|div)\b"#,
    ),
    rule(
        "sqli-keyword-fragment",
        6,
        r#"['"`;]\s*(?:union|alter|select|insert|update|delete|drop|create|exec(?:ute)?|declare|truncate|shutdown|waitfor|set\s+@)(?:\b|\s*[/(])|^\s*(?:--|#|/\*)\s*(?:alter|drop|select|union|insert|update|delete|create)\b|^\s*(?:order|group)\s+by\b|^\s*having\s+\d|^\s*exec(?:ute)?\s*(?:\(|\w+\s*$)|^\s*from\s+[\w.`]+\s+(?:where|group\s+by|order\s+by)\b|\bcreate\s+table\s+\w|(?:^|[>;])\s*set\s+@\w|\bas\s*['"`]\s*from\b|[=(,]\s*\(\s*select\b|\(\s*select\s*$"#,
    ),
    rule(
        "sqli-quote-fragment",
        5,
        r#"['"`]\s*(?:\?\s)?\s*(?:[-+*/%=<>^|&#~]\s*){1,5}(?:['"`]|\d|$)|^\s*['"]\s*(?:[:;,\]}]|\d+:\d)|['"`]\s*,\s*\(?\s*(?:0x[0-9a-f]+|\d+)\s*\)?\s*$|^\s*`[\w.$]+`\s*$|['"`]\s+['"`]\s*,|['"`]{2}\s*,\s*['"`]{2}|['"`],\s*\d+\s*,\s*\d|['"`]\d+\s*[-+*/%]\s*\d|'\s*\*\s*from\b|\d'\s+'\s*\d|^\s*\^\s*'|['"`]\s*;\s*\w+\s*['"`]"#,
    ),
    rule(
        "sqli-obfuscated-keyword",
        6,
        r"union\s*(?:all\s*)?select\S*from|\b\d+\.e\s*(?:\(|\.[a-z_])",
    ),
    rule(
        "sqli-catalog-fragment",
        6,
        r"\b(?:tempdb|msdb|northwind|schema_name|n?varchar|utl_http|msdasql|sqloledb|information_schema|pg_catalog)\b",
    ),
];

/// Rules over the decoded text with its comments kept.
static RAW_RULES: &[Rule] = &[
    rule("sqli-versioned-comment", 8, r"/\*!\d*\s*\w"),
    rule(
        "sqli-comment-between-keywords",
        7,
        r"\b(?:select|union|from|where|and|or|insert|update|delete|drop|order|group|having|limit)\s*/\*[^*]*\*/\s*[\w(@*]",
    ),
];

/// NoSQL (MongoDB) query operators used as parameter or JSON key names.
static NAME_RULES: &[Rule] = &[rule(
    "sqli-nosql-operator",
    8,
    r"^\s*\$(?:where|ne|eq|gt|gte|lt|lte|in|nin|regex|exists|not|nor|or|and|expr|elemmatch|all|size|type|mod|text|jsonschema|function|accumulator)\s*$",
)];

/// NoSQL operators inside brackets, in any name or value (`user[$ne]=`).
static NOSQL_RULES: &[Rule] = &[rule(
    "sqli-nosql-operator",
    8,
    r"\[\s*\$(?:where|ne|eq|gt|gte|lt|lte|in|nin|regex|exists|not|nor|or|and|expr|elemmatch|all|size|type|mod|text|jsonschema|function|accumulator)\s*\]|\{\s*['\x22]?\$(?:where|ne|gt|gte|lt|lte|regex|nin|in|exists|expr)['\x22]?\s*:",
)];

static SET: LazyLock<Option<RuleSet>> = LazyLock::new(|| RuleSet::compile(Family::Sqli, RULES));

/// Two literals compared, for [`literal_tautology`].
static COMPARISON: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?:^|[\s,(])(\d+|'[^']*'|"[^"]*"|`[^`]*`)\s*(==?|!=|<>|<=>|\blike\b|\bnot\s+r?like\b|\bnot\s+regexp\b|\bregexp\b|\brlike\b|\bis\s+not\b|\bis\b)\s*(\d+|'[^']*'?|"[^"]*"?|`[^`]*`?)"#,
    )
    .ok()
});
static STRICT_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::Sqli, STRICT_RULES));
static NOSQL_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::Sqli, NOSQL_RULES));
static RAW_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::Sqli, RAW_RULES));
static NAME_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::Sqli, NAME_RULES));

/// Matches a target against the SQL injection rules.
pub(crate) fn inspect(target: &Target, out: &mut Findings) {
    let text = target.text.as_str();
    if target.kind == TargetKind::Name
        && let Some(set) = NAME_SET.as_ref()
    {
        set.scan(target, text, out);
    }
    symbols(target, out);
    if !text.bytes().any(is_sql_punct) {
        // Catalog and procedure names need no punctuation around them.
        if text.contains('_') || text.contains('.') || target.context != Context::Prose {
            if let Some(set) = SET.as_ref() {
                set.scan(target, text, out);
            }
            if target.context != Context::Prose
                && let Some(set) = STRICT_SET.as_ref()
            {
                set.scan(target, text, out);
            }
        }
        return;
    }
    if text.contains('$')
        && let Some(set) = NOSQL_SET.as_ref()
    {
        set.scan(target, text, out);
    }
    if let Some(set) = RAW_SET.as_ref() {
        set.scan(target, text, out);
    }
    if text.contains("/*")
        && let Some(evidence) = split_keyword(text)
        && target.min_weight <= 7
    {
        out.push(
            Family::Sqli,
            "sqli-comment-splits-keyword",
            target.location,
            evidence,
            7,
        );
    }
    if let Some(set) = SET.as_ref() {
        let mut view = view(text);
        // Servers in front of an application often read `+` in a path as a space.
        if target.kind == TargetKind::Path {
            view = view.replace('+', " ");
        }
        set.scan(target, &view, out);
        if target.context != Context::Prose {
            if let Some(set) = STRICT_SET.as_ref() {
                set.scan(target, &view, out);
            }
            if let Some(evidence) = literal_tautology(&view)
                && target.min_weight <= 6
            {
                out.push(
                    Family::Sqli,
                    "sqli-literal-tautology",
                    target.location,
                    evidence,
                    6,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_compile() {
        assert_compiles(SET.as_ref(), RULES);
        assert_compiles(STRICT_SET.as_ref(), STRICT_RULES);
        assert_compiles(RAW_SET.as_ref(), RAW_RULES);
        assert_compiles(NAME_SET.as_ref(), NAME_RULES);
        assert_compiles(NOSQL_SET.as_ref(), NOSQL_RULES);
    }

    #[test]
    fn comments_are_removed_and_versioned_kept() {
        assert_eq!(view("union/**/select"), "union select");
        assert_eq!(view("/*!50000union*/ select"), " union select");
    }
}
