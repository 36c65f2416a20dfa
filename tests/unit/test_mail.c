/*
 * test_mail.c - the pure parts of src/mail.c: which addresses are sent to,
 * the Subject header (plain or RFC 2047, never a line break: no header
 * can be injected), the Date header, loopback detection for the STARTTLS
 * rule, and CRLF line ends. Sending itself is tested against real SMTP
 * servers in tests/integration/t_mail.sh; allocation failures in the
 * Subject, Date and CRLF helpers in test_torture.c.
 */
#include "testutil.h"

#include "bellwether/buf.h"
#include "bellwether/mail.h"
#include "bellwether/mem.h"

static void test_address(void **state)
{
    static const struct {
        const char *addr;
        int ok;
    } cases[] = {
        {"leads@acme.com", 1},
        {"a.b+tag@sub.example.org", 1},
        {"x@y", 1},
        {"", 0},
        {"@acme.com", 0},
        {"leads@", 0},
        {"no-at-sign", 0},
        {"two@at@acme.com", 0},
        {"leads@acme.com\r\nBcc: evil@x.com", 0},
        {"leads@acme.com\nX: y", 0},
        {"Lead <leads@acme.com>", 0},
        {"a b@acme.com", 0},
        {"a,b@acme.com", 0},
        {"a;b@acme.com", 0},
        {"\"q\"@acme.com", 0},
        {"a\\b@acme.com", 0},
        {"a@[127.0.0.1]", 0},
        {"caf\xC3\xA9@acme.com", 0},
        {"tab\t@acme.com", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (bw_mail_address_ok(cases[i].addr) != cases[i].ok) {
            print_error("address '%s': want %d\n", cases[i].addr, cases[i].ok);
            fail();
        }
    }
    assert_false(bw_mail_address_ok(NULL));
}

static void test_subject(void **state)
{
    struct bw_buf b = BW_BUF_INIT;
    char *big;

    (void)state;
    assert_int_equal(bw_mail_subject(&b, "bellwether weekly report 2026-W46"),
                     0);
    assert_string_equal(b.data, "bellwether weekly report 2026-W46");
    /* a line break cannot start a header */
    bw_buf_reset(&b);
    assert_int_equal(bw_mail_subject(&b, "x\r\nBcc: evil@x.com\n"), 0);
    assert_string_equal(b.data, "x  Bcc: evil@x.com ");
    /* UTF-8: encoded words of whole code points */
    bw_buf_reset(&b);
    assert_int_equal(bw_mail_subject(&b, "team caf\xC3\xA9"), 0);
    assert_string_equal(b.data, "=?UTF-8?B?dGVhbSBjYWbDqQ==?=");
    bw_buf_reset(&b);
    assert_int_equal(bw_mail_subject(&b, "bad \xFF\n"), 0);
    assert_string_equal(b.data, "=?UTF-8?B?YmFkIO+/vSA=?=");
    /* long: several words, none over 75 characters, no CR or LF */
    big = bw_malloc(1000);
    memset(big, 0, 1000);
    for (int i = 0; i < 300; i++) {
        memcpy(big + i * 3, "\xE2\x82\xAC", 3); /* € */
    }
    bw_buf_reset(&b);
    assert_int_equal(bw_mail_subject(&b, big), 0);
    assert_null(strchr(b.data, '\r'));
    assert_null(strchr(b.data, '\n'));
    for (char *w = b.data; w; w = strchr(w + 1, ' ')) {
        size_t n = strcspn(w + (*w == ' '), " ");

        assert_true(n <= 75);
    }
    bw_free(big);
    bw_buf_release(&b);
}

static void test_date(void **state)
{
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    assert_int_equal(bw_mail_date(&b, 1794787200), 0);
    assert_string_equal(b.data, "Mon, 16 Nov 2026 00:00:00 +0000");
    bw_buf_reset(&b);
    assert_int_equal(bw_mail_date(&b, 0), 0);
    assert_string_equal(b.data, "Thu, 01 Jan 1970 00:00:00 +0000");
    bw_buf_release(&b);
}

static void test_loopback(void **state)
{
    static const struct {
        const char *url;
        int loop;
    } cases[] = {
        {"smtp://localhost", 1},
        {"smtp://LOCALHOST:25", 1},
        {"smtp://127.0.0.1:2525", 1},
        {"smtp://127.1.2.3/", 1},
        {"smtp://[::1]:25", 1},
        {"smtp://user@127.0.0.1:25", 1},
        {"smtp://smtp.acme.com", 0},
        {"smtp://128.0.0.1", 0},
        {"smtp://localhost.evil.com", 0},
        {"smtp://[::2]:25", 0},
        {"smtp://127.0.0.1.nip.io", 0},
        {"not a url", 0},
        {"smtp://", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (bw_mail_url_is_loopback(cases[i].url) != cases[i].loop) {
            print_error("url '%s': want %d\n", cases[i].url, cases[i].loop);
            fail();
        }
    }
}

static void test_crlf(void **state)
{
    struct bw_buf b = BW_BUF_INIT;
    const char *s = "a\nb\r\nc\rd";

    (void)state;
    assert_int_equal(bw_mail_crlf(&b, s, strlen(s)), 0);
    assert_string_equal(b.data, "a\r\nb\r\nc\r\nd");
    bw_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address), cmocka_unit_test(test_subject),
        cmocka_unit_test(test_date),    cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_crlf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
