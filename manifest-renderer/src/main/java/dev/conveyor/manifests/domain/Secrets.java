package dev.conveyor.manifests.domain;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Keeps Secret values out of what people read (the pull request diff), while still showing that a value changed. */
public final class Secrets {

    private Secrets() {
    }

    /** The object with every {@code data}/{@code stringData} value of a core Secret replaced by a short digest. */
    public static RenderedObject redact(RenderedObject object) {
        if (!"Secret".equals(object.kind()) || !object.group().isEmpty()) {
            return object;
        }
        ObjectNode body = object.body().deepCopy();
        for (String field : new String[]{"data", "stringData"}) {
            JsonNode values = body.path(field);
            if (values.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = values.fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> entry = it.next();
                    entry.setValue(body.textNode("<redacted " + digest(entry.getValue().asText()) + ">"));
                }
            }
        }
        return RenderedObject.of(object.source(), body);
    }

    private static String digest(String value) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
