package dev.conveyor.testkit.git;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.conveyor.testkit.Binaries;

/** ed25519 key pairs generated with the real {@code ssh-keygen}, in the OpenSSH formats sshd and ssh expect. */
public final class SshKeys {

    private SshKeys() {
    }

    /**
     * An OpenSSH key pair on disk.
     *
     * @param privateKey the private key file (mode 0600, no passphrase)
     * @param publicKey the {@code .pub} file next to it
     */
    public record KeyPair(Path privateKey, Path publicKey) {

        /** The public key line ({@code ssh-ed25519 AAAA... comment}). */
        public String publicKeyLine() {
            try {
                return Files.readString(publicKey, StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The key type and base64 blob without the comment, as used in known_hosts. */
        public String typeAndKey() {
            String[] parts = publicKeyLine().split("\\s+");
            return parts[0] + " " + parts[1];
        }
    }

    /** Generates a passphrase-less ed25519 key pair at {@code privateKey} and {@code privateKey.pub}. */
    public static KeyPair generate(Path privateKey, String comment) {
        Path keygen = Binaries.require("ssh-keygen", "openssh-client");
        try {
            Files.createDirectories(privateKey.toAbsolutePath().getParent());
            Path log = Files.createTempFile(privateKey.toAbsolutePath().getParent(), "ssh-keygen", ".log");
            Process process = new ProcessBuilder(List.of(keygen.toString(), "-q", "-t", "ed25519", "-N", "", "-C",
                    comment, "-f", privateKey.toString())).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("ssh-keygen timed out generating " + privateKey);
            }
            String output = Files.readString(log);
            Files.deleteIfExists(log);
            if (process.exitValue() != 0) {
                throw new IllegalStateException("ssh-keygen failed (" + process.exitValue() + "): " + output);
            }
            return new KeyPair(privateKey, Path.of(privateKey + ".pub"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot generate an ssh key at " + privateKey, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted generating " + privateKey, e);
        }
    }
}
