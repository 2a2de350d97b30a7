package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The leak scan's matcher: every encoding it promises is found, at every alignment, and nothing else is. */
class LeakScanTest {

    private static final String TOKEN = "3f9a0c1be27d44e8a61f0b5c9d2e7a13c4b8f6e0d1a2b3c4";
    // bytes chosen so the standard and URL-safe alphabets differ (0xfb 0xff encode to '+' and '/')
    private static final String BINARY_KEY = "k\u00fb\u00ff\u00fe?&=/ +key-material";

    private final LeakScan scan = new LeakScan(Map.of("jira-token", TOKEN, "age-key", BINARY_KEY, "pin", "1234"));

    @Test
    void aCleanHaystackHasNoHits() {
        String clean = "2026-12-07 04:00:00 INFO run 0b7c… SUCCEEDED Authorization: Bearer <redacted> "
                + Base64.getEncoder().encodeToString("conveyor@example.com:not-the-token".getBytes(
                        StandardCharsets.UTF_8));
        LeakScan.Result r = scan.scan("log clean", clean);
        assertThat(r.hits()).isEmpty();
        assertThat(r.places()).isEqualTo(1);
        assertThat(r.bytes()).isEqualTo(clean.getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void theRawSecretIsFoundWithItsNameAndOffsetNeverItsValue() {
        LeakScan.Result r = scan.scan("log gateway.log", "token=" + TOKEN + "\n");
        assertThat(r.hits()).singleElement().satisfies(h -> {
            assertThat(h.place()).isEqualTo("log gateway.log");
            assertThat(h.secret()).isEqualTo("jira-token");
            assertThat(h.form()).isEqualTo("raw");
            assertThat(h.offset()).isEqualTo(6);
            assertThat(h.toString()).doesNotContain(TOKEN);
        });
    }

    /** A secret inside a longer base64 value (a Basic Authorization, a header) starts at any of the 3 alignments. */
    @ParameterizedTest
    @ValueSource(strings = {"", "x", "xx", "conveyor@example.com:", "user:", "ab"})
    void aSecretEncodedInsideALongerBase64ValueIsFoundAtEveryAlignment(String prefix) {
        for (String suffix : List.of("", "y", "yz", "!trailing")) {
            byte[] plain = (prefix + TOKEN + suffix).getBytes(StandardCharsets.UTF_8);
            for (Base64.Encoder enc : List.of(Base64.getEncoder(), Base64.getEncoder().withoutPadding(), Base64
                    .getUrlEncoder(), Base64.getUrlEncoder().withoutPadding())) {
                String haystack = "Authorization: Basic " + enc.encodeToString(plain) + "\n";
                assertThat(scan.scan("header", haystack).hits()).as("prefix '%s', suffix '%s'", prefix, suffix)
                        .isNotEmpty().allSatisfy(h -> assertThat(h.secret()).isEqualTo("jira-token"));
            }
        }
    }

    @Test
    void binaryKeyMaterialIsFoundInTheStandardAndTheUrlSafeAlphabet() {
        byte[] key = BINARY_KEY.getBytes(StandardCharsets.UTF_8);
        for (int align = 0; align < 3; align++) {
            byte[] shifted = new byte[align + key.length];
            System.arraycopy(key, 0, shifted, align, key.length);
            String std = Base64.getEncoder().encodeToString(shifted);
            String url = Base64.getUrlEncoder().withoutPadding().encodeToString(shifted);
            assertThat(scan.scan("std", std).hits()).as("standard at %d", align).anySatisfy(h -> assertThat(h
                    .form()).startsWith("base64 at"));
            assertThat(scan.scan("url", url).hits()).as("URL-safe at %d", align).anySatisfy(h -> assertThat(h
                    .form()).startsWith("base64url at"));
        }
    }

    @Test
    void aUrlEncodedSecretIsFound() {
        String query = "/hook?key=" + URLEncoder.encode(BINARY_KEY, StandardCharsets.UTF_8) + "&x=1";
        assertThat(scan.scan("url", query).hits()).anySatisfy(h -> {
            assertThat(h.secret()).isEqualTo("age-key");
            assertThat(h.form()).isEqualTo("url-encoded");
        });
        String percent20 = URLEncoder.encode(BINARY_KEY, StandardCharsets.UTF_8).replace("+", "%20");
        assertThat(scan.scan("url", percent20).hits()).anySatisfy(h -> assertThat(h.form()).isEqualTo(
                "url-encoded (%20)"));
    }

    @Test
    void aKeyOfSeveralLinesIsAlsoSearchedForLineByLine() {
        String pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
                + "AAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDx\n-----END OPENSSH PRIVATE KEY-----\n";
        LeakScan pemScan = new LeakScan(Map.of("ssh-key", pem));
        assertThat(pemScan.scan("log", "key line: AAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDx reformatted").hits())
                .anySatisfy(h -> assertThat(h.secret()).isEqualTo("ssh-key"));
    }

    @Test
    void needlesTooShortToSearchForAreNamedNotSearched() {
        List<String> skipped = new ArrayList<>();
        Map<String, String> secrets = new LinkedHashMap<>();
        secrets.put("pin", "1234");
        assertThat(LeakScan.needles(secrets, skipped)).isEmpty();
        assertThat(skipped).isNotEmpty().allSatisfy(s -> assertThat(s).startsWith("pin (").doesNotContain("1234"));
        assertThat(scan.scan("log", "pin 1234").hits()).isEmpty();
    }

    @Test
    void theBase64CoreDependsOnlyOnTheSecret() {
        byte[] s = TOKEN.getBytes(StandardCharsets.UTF_8);
        for (int align = 0; align < 3; align++) {
            String core = LeakScan.base64Core(s, align);
            assertThat(core).hasSizeGreaterThan(TOKEN.length() * 4 / 3 - 8);
            for (String filler : List.of("\0\0", "zz", "\u00ff\u00ff")) {
                byte[] f = filler.substring(0, align).getBytes(StandardCharsets.ISO_8859_1);
                byte[] all = new byte[f.length + s.length + 1];
                System.arraycopy(f, 0, all, 0, f.length);
                System.arraycopy(s, 0, all, f.length, s.length);
                all[all.length - 1] = (byte) 0x5a;
                assertThat(Base64.getEncoder().encodeToString(all)).contains(core);
            }
        }
    }
}
