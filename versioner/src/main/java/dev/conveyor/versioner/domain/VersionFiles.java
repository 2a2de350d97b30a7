package dev.conveyor.versioner.domain;

import java.io.StringReader;
import java.util.Map;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import dev.conveyor.stage.config.InvalidConfigException;

/**
 * Reads the version out of a version file: a plain {@code VERSION} file ({@code 1.4.0} or {@code v1.4.0}), a
 * {@code Chart.yaml} ({@code version:}) or a Maven {@code pom.xml} (the project's own {@code <version>}, not the
 * parent's). A {@code -SNAPSHOT} or other pre-release suffix is kept here and dropped by the rules.
 */
public final class VersionFiles {

    private VersionFiles() {
    }

    /** The version in {@code content}, read according to the file's name. */
    public static SemVer parse(String path, String content) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        String raw;
        if (name.equals("Chart.yaml") || name.endsWith(".yaml") || name.endsWith(".yml")) {
            raw = chartVersion(path, content);
        } else if (name.endsWith(".xml")) {
            raw = pomVersion(path, content);
        } else {
            raw = content.strip();
            if (raw.startsWith("v")) {
                raw = raw.substring(1);
            }
        }
        String value = raw;
        return SemVer.parse(value).orElseThrow(() -> new InvalidConfigException(path,
                path + " does not hold a semantic version (found '" + abbreviate(value) + "')"));
    }

    private static String chartVersion(String path, String content) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(20);
        options.setCodePointLimit(256 * 1024);
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(options)).load(content);
        } catch (RuntimeException e) {
            throw new InvalidConfigException(path, path + " is not valid YAML");
        }
        if (!(doc instanceof Map<?, ?> map) || map.get("version") == null) {
            throw new InvalidConfigException(path + ".version", path + " has no top-level 'version'");
        }
        return String.valueOf(map.get("version")).strip();
    }

    private static String pomVersion(String path, String content) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            // An untrusted pom must not reach the network or the file system through entities.
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setExpandEntityReferences(false);
            Document doc = factory.newDocumentBuilder().parse(new InputSource(new StringReader(content)));
            Element project = doc.getDocumentElement();
            for (Node child = project.getFirstChild(); child != null; child = child.getNextSibling()) {
                if (child instanceof Element element && element.getTagName().equals("version")) {
                    String version = element.getTextContent().strip();
                    if (version.contains("${")) {
                        throw new InvalidConfigException(path + ".version",
                                path + " sets <version> through a property (" + version + "); use a literal version");
                    }
                    return version;
                }
            }
            throw new InvalidConfigException(path + ".version", path + " has no <version> of its own");
        } catch (InvalidConfigException e) {
            throw e;
        } catch (Exception e) {
            throw new InvalidConfigException(path, path + " is not a readable pom.xml");
        }
    }

    private static String abbreviate(String value) {
        return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }
}
