package dev.conveyor.notifier.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.jboss.logging.Logger;

import io.quarkus.qute.Engine;
import io.quarkus.qute.Template;

/**
 * The Qute templates of every message, built in ({@code src/main/resources/templates}) or overridden by a file of the
 * same name in {@code conveyor.notifier.templates.dir}. Overrides are parsed at start, so a broken one stops the
 * service instead of failing at the first run.
 */
public final class MessageTemplates {

    public static final String PR_COMMENT = "pr-comment.md";
    public static final String SLACK_MESSAGE = "slack-message.txt";
    public static final String SLACK_FAILURE = "slack-failure.txt";
    public static final String JIRA_COMMENT = "jira-comment.txt";
    public static final String STATUS = "status.txt";
    public static final List<String> NAMES = List.of(PR_COMMENT, SLACK_MESSAGE, SLACK_FAILURE, JIRA_COMMENT, STATUS);

    private static final Logger LOG = Logger.getLogger(MessageTemplates.class);

    private final Map<String, Template> templates = new HashMap<>();
    private final Map<String, Template> builtIn = new HashMap<>();
    private final Runnable onError;

    /**
     * @param onError called when an override fails to render (the built-in template is used instead), for metrics
     */
    public MessageTemplates(Engine engine, Optional<Path> overrides, Runnable onError) {
        this.onError = onError;
        for (String name : NAMES) {
            Path file = overrides.map(dir -> dir.resolve(name)).filter(Files::isRegularFile).orElse(null);
            Template template;
            if (file != null) {
                try {
                    template = engine.parse(Files.readString(file));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read template override " + file, e);
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("template override " + file + " does not parse: "
                            + e.getMessage(), e);
                }
                LOG.infof("template %s overridden by %s", name, file);
            } else {
                template = null;
            }
            Template original = engine.getTemplate(name);
            if (original == null) {
                throw new IllegalStateException("built-in template " + name + " is missing");
            }
            builtIn.put(name, original);
            templates.put(name, template == null ? original : template);
        }
    }

    /**
     * Renders a template with the given data, trailing whitespace trimmed. An override that fails (a property that does
     * not exist) is logged and counted, and the built-in template is used: a typo in a template never loses a message.
     */
    public String render(String name, Map<String, Object> data) {
        Template template = templates.get(name);
        try {
            return render(template, data);
        } catch (RuntimeException e) {
            if (template == builtIn.get(name)) {
                throw e;
            }
            LOG.warnf("template override %s failed, the built-in one is used: %s", name, e.getMessage());
            onError.run();
            return render(builtIn.get(name), data);
        }
    }

    private static String render(Template template, Map<String, Object> data) {
        var instance = template.instance();
        data.forEach(instance::data);
        return instance.render().strip();
    }
}
