use super::*;

/// Go: TestMQTTTopicAndSubjectConversion — topic → subject, and back.
#[test]
fn topic_and_subject_conversion() {
    let ok: &[(&str, &str)] = &[
        ("/", "/./"),
        ("//", "/././"),
        ("///", "/./././"),
        ("////", "/././././"),
        ("foo", "foo"),
        ("/foo", "/.foo"),
        ("//foo", "/./.foo"),
        ("///foo", "/././.foo"),
        ("///foo/", "/././.foo./"),
        ("///foo//", "/././.foo././"),
        ("///foo///", "/././.foo./././"),
        ("//.foo.//", "/././/foo//././"),
        ("foo/bar", "foo.bar"),
        ("/foo/bar", "/.foo.bar"),
        ("/foo/bar/", "/.foo.bar./"),
        ("foo/bar/baz", "foo.bar.baz"),
        ("/foo/bar/baz", "/.foo.bar.baz"),
        ("/foo/bar/baz/", "/.foo.bar.baz./"),
        ("bar/", "bar./"),
        ("bar//", "bar././"),
        ("bar///", "bar./././"),
        ("foo//bar", "foo./.bar"),
        ("foo///bar", "foo././.bar"),
        ("foo////bar", "foo./././.bar"),
        (".", "//"),
        ("..", "////"),
        ("...", "//////"),
        ("./", "//./"),
        (".//.", "//././/"),
        ("././.", "//.//.//"),
        ("././/.", "//.//././/"),
        (".foo", "//foo"),
        ("foo.", "foo//"),
        (".foo.", "//foo//"),
        ("foo../bar/", "foo////.bar./"),
        ("foo../bar/.", "foo////.bar.//"),
        ("/foo/", "/.foo./"),
        ("./foo/.", "//.foo.//"),
        ("foo.bar/baz", "foo//bar.baz"),
    ];
    for (topic, subject) in ok {
        let got = topic_to_nats_pub_subject(topic.as_bytes()).unwrap();
        assert_eq!(&*got, subject.as_bytes(), "topic {topic:?}");
        let back = nats_subject_to_topic(&got);
        assert_eq!(back, topic.as_bytes(), "back from {subject:?}");
    }
    let errors: &[(&str, &str)] = &[
        (
            "foo/+",
            "wildcards not allowed in publish's topic: \"foo/+\"",
        ),
        (
            "foo/#",
            "wildcards not allowed in publish's topic: \"foo/#\"",
        ),
        ("foo bar", "character not supported for MQTT topics"),
        ("foo\x7fbar", "character not supported for MQTT topics"),
    ];
    for (topic, text) in errors {
        let err = topic_to_nats_pub_subject(topic.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), *text, "topic {topic:?}");
    }
}

/// Go: TestMQTTPublishTopicErrors (the conversion part: each topic is refused).
#[test]
fn publish_topic_errors() {
    for topic in [
        "foo/+",
        "foo/#",
        "foo\tbar",
        "foo\nbar",
        "foo\rbar",
        "foo\x0cbar",
    ] {
        assert!(
            topic_to_nats_pub_subject(topic.as_bytes()).is_err(),
            "{topic:?}"
        );
    }
}

/// Go: TestMQTTFilterConversion.
#[test]
fn filter_conversion() {
    let cases: &[(&str, &str)] = &[
        ("+", "*"),
        ("/+", "/.*"),
        ("+/", "*./"),
        ("/+/", "/.*./"),
        ("foo/+", "foo.*"),
        ("foo/+/", "foo.*./"),
        ("foo/+/bar", "foo.*.bar"),
        ("foo/+/+", "foo.*.*"),
        ("foo/+/+/", "foo.*.*./"),
        ("foo/+/+/bar", "foo.*.*.bar"),
        ("foo//+", "foo./.*"),
        ("foo//+/", "foo./.*./"),
        ("foo//+//", "foo./.*././"),
        ("foo//+//bar", "foo./.*./.bar"),
        ("foo///+///bar", "foo././.*././.bar"),
        ("foo.bar///+///baz", "foo//bar././.*././.baz"),
        ("#", ">"),
        ("/#", "/.>"),
        ("/foo/#", "/.foo.>"),
        ("foo/#", "foo.>"),
        ("foo//#", "foo./.>"),
        ("foo///#", "foo././.>"),
        ("foo/bar/#", "foo.bar.>"),
        ("foo/bar.baz/#", "foo.bar//baz.>"),
        // NATS wildcards in MQTT filters are not escaped.
        ("foo*/bar", "foo*.bar"),
        ("foo>/bar", "foo>.bar"),
        ("foo/*/bar", "foo.*.bar"),
        ("foo/*/bar/*", "foo.*.bar.*"),
        ("foo/>", "foo.>"),
        ("foo/*/bar/>", "foo.*.bar.>"),
    ];
    for (filter, subject) in cases {
        let got = filter_to_nats_subject(filter.as_bytes()).unwrap();
        assert_eq!(&*got, subject.as_bytes(), "filter {filter:?}");
    }
    // Go: TestMQTTSubWithSpaces / TestMQTTSubWithControlChars (the conversion part).
    for filter in [
        "foo bar",
        "foo\tbar",
        "foo\nbar",
        "foo\rbar",
        "foo\x0cbar",
        "a\x7f",
    ] {
        assert_eq!(
            filter_to_nats_subject(filter.as_bytes()),
            Err(MqttError::UnsupportedCharacters),
            "{filter:?}"
        );
    }
}

#[test]
fn unchanged_topics_borrow() {
    assert!(matches!(
        topic_to_nats_pub_subject(b"foo"),
        Ok(Cow::Borrowed(b"foo"))
    ));
    assert!(matches!(filter_to_nats_subject(b"a/b"), Ok(Cow::Owned(_))));
}

#[test]
fn level_up() {
    assert!(needs_level_up_subscription(b"foo.>"));
    assert!(!needs_level_up_subscription(b">"));
    assert!(!needs_level_up_subscription(b".>"));
    assert!(!needs_level_up_subscription(b"foo.*"));
}
