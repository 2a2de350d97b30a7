package dev.conveyor.stage.git;

import java.util.regex.Pattern;

/** Keeps credentials out of everything that is logged, published or shown. */
public final class GitUrls {

    private static final Pattern USER_INFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\\s]*@");
    private static final Pattern QUERY_SECRET = Pattern.compile(
            "([?&](?:access_token|token|private_token|password|sig)=)[^&\\s]*", Pattern.CASE_INSENSITIVE);

    private GitUrls() {
    }

    /**
     * The URL without user info or token-like query parameters: {@code https://x:tok@h/r?token=t} →
     * {@code https://h/r?token=***}.
     */
    public static String redact(String url) {
        return url == null ? null : scrub(url);
    }

    /** Removes user info and token-like query parameters from every URL inside a free text, e.g. an error message. */
    public static String scrub(String text) {
        if (text == null) {
            return null;
        }
        String noUserInfo = USER_INFO.matcher(text).replaceAll("$1");
        return QUERY_SECRET.matcher(noUserInfo).replaceAll("$1***");
    }
}
