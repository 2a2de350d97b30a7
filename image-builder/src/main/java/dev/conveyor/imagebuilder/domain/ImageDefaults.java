package dev.conveyor.imagebuilder.domain;

import java.util.Optional;

/**
 * The platform's image defaults, from configuration.
 *
 * @param registry the registry images are pushed to, e.g. {@code docker.io} or {@code registry.example.com:5000}
 * @param namespace the repository prefix, e.g. {@code team} for {@code registry/team/<app>}; empty for none
 * @param jarBase the base image of jar apps
 * @param directoryBase the base image of directory apps
 * @param defaultKind the kind when neither the artifact nor {@code .conveyor.yaml} names one
 * @param pushLatest whether CD runs also move the {@code latest} tag
 */
public record ImageDefaults(
        String registry,
        Optional<String> namespace,
        String jarBase,
        String directoryBase,
        ArtifactKind defaultKind,
        boolean pushLatest) {
}
