package dev.conveyor.imagebuilder.client;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;

/**
 * What goes on top of the base image: the layers in order and the container configuration.
 *
 * @param layers the layers, bottom first; empty layers are left out
 * @param entrypoint the entrypoint; empty keeps the base image's
 * @param args the program arguments; empty keeps none
 * @param env variables added to the base image's
 * @param ports exposed ports as {@code <number>/<tcp|udp>}
 * @param user the user; empty keeps the base image's
 * @param workdir the working directory
 */
public record ImageContent(
        List<FileEntriesLayer> layers,
        List<String> entrypoint,
        List<String> args,
        Map<String, String> env,
        List<String> ports,
        Optional<String> user,
        String workdir) {
}
