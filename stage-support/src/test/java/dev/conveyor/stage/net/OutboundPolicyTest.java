package dev.conveyor.stage.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

class OutboundPolicyTest {

    /** A fixed DNS: names of this test resolve to what the case needs, without a network. */
    static final Map<String, String> DNS = Map.of("github.com", "140.82.112.3", "rebind.example", "127.0.0.1",
            "inside.example", "10.1.2.3", "mixed.example", "140.82.112.4,192.168.1.1", "v6.example", "fd12::1",
            "git.corp.example", "10.20.0.7");

    static OutboundPolicy.Resolver fixed() {
        return host -> {
            String answers = DNS.get(host);
            if (answers == null) {
                throw new UnknownHostException(host);
            }
            String[] parts = answers.split(",");
            InetAddress[] all = new InetAddress[parts.length];
            for (int i = 0; i < parts.length; i++) {
                all[i] = InetAddress.getByName(parts[i]);
            }
            return all;
        };
    }

    static OutboundPolicy defaults() {
        return OutboundPolicy.builder().resolver(fixed()).build();
    }

    static OutboundRefused refusal(Runnable check) {
        try {
            check.run();
        } catch (OutboundRefused e) {
            return e;
        }
        throw new AssertionError("not refused");
    }

    @ParameterizedTest
    @ValueSource(strings = {"file:///etc", "file:///proc/self/environ", "/etc/passwd",
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "https://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/latest/meta-data/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "ssh://-oProxyCommand=touch%20%2Ftmp%2Fpwned@github.com/acme/shop.git",
            "ssh://-oProxyCommand=x/acme/shop.git", "ssh://github.com/-oProxyCommand=x",
            "git@github.com:--upload-pack=touch%20%2Ftmp%2Fpwned", "git@github.com:--upload-pack=touch /tmp/pwned",
            "-oProxyCommand=x@github.com:acme/shop.git", "ext::sh -c touch% /tmp/pwned", "ext::sh",
            "fd::17", "https://127.0.0.1:8080/q/metrics", "https://[::1]/", "https://[::ffff:127.0.0.1]/",
            "https://10.0.0.1/", "https://192.168.1.1/", "https://172.16.0.1/", "https://[fe80::1]/",
            "https://0.0.0.0/", "http://github.com/acme/shop.git", "git://github.com/acme/shop.git",
            "https://github.com/acme/shop.git\nHost: evil", "shop.git", ""})
    void hostileUrlsAreRefusedByTheUrlCheckNamingTheField(String url) {
        OutboundRefused e = refusal(() -> defaults().check("repoUrl", url));

        assertThat(e.field()).isEqualTo("repoUrl");
        assertThat(e.getMessage()).startsWith("repoUrl ");
        assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
        assertThat(e.reason()).isEqualTo("OUTBOUND_REFUSED");
        assertThat(e.details()).containsEntry("field", "repoUrl");
    }

    @Test
    void refusalsSayWhy() {
        OutboundPolicy policy = defaults();
        assertThat(refusal(() -> policy.check("repoUrl", "http://169.254.169.254/x")).why())
                .contains("scheme http");
        OutboundPolicy http = OutboundPolicy.builder().schemes(List.of("http", "https")).resolver(fixed()).build();
        assertThat(refusal(() -> http.check("artifact.url", "http://169.254.169.254/x")).why())
                .contains("cloud metadata address");
        assertThat(refusal(() -> policy.check("repoUrl", "ssh://-oProxyCommand=x@h.example/r")).why())
                .contains("user name that looks like a command-line option");
        assertThat(refusal(() -> policy.check("repoUrl", "git@h.example:--upload-pack=x")).why())
                .contains("path that looks like a command-line option");
        assertThat(refusal(() -> policy.check("repoUrl", "ext::sh -c x")).why()).contains("transport-helper");
        assertThat(refusal(() -> policy.check("repoUrl", "file:///etc")).why()).contains("scheme file");
        OutboundPolicy files = OutboundPolicy.builder().schemes(List.of("file")).build();
        assertThat(refusal(() -> files.check("repoUrl", "file:///etc")).why()).contains("file-roots");
        assertThat(refusal(() -> policy.check("repoUrl", "https://127.0.0.1/")).why())
                .contains("loopback address");
    }

    @Test
    void metadataAddressesStayRefusedWhenTheirNetworkIsAllowed() {
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("http")).allowedNetworks(List.of(
                "169.254.0.0/16", "fd00::/8", "100.64.0.0/10")).resolver(fixed()).build();

        assertThat(refusal(() -> policy.check("u", "http://169.254.169.254/")).why()).contains("metadata");
        assertThat(refusal(() -> policy.check("u", "http://[fd00:ec2::254]/")).why()).contains("metadata");
        assertThat(refusal(() -> policy.check("u", "http://[::ffff:169.254.169.254]/")).why()).contains("metadata");
        assertThat(refusal(() -> policy.check("u", "http://100.100.100.200/")).why()).contains("metadata");
        assertThat(policy.check("u", "http://169.254.1.1/").host()).isEqualTo("169.254.1.1");
    }

    @Test
    void aNameResolvingToARefusedAddressIsRefusedAtConnectTime() {
        OutboundPolicy policy = defaults();

        // The URL alone is fine: only DNS tells.
        assertThat(policy.check("repoUrl", "https://rebind.example/acme/shop.git").host()).isEqualTo(
                "rebind.example");
        assertThat(refusal(() -> policy.checkConnect("repoUrl", "https://rebind.example/acme/shop.git")).why())
                .isEqualTo("host rebind.example resolves to a loopback address (allow it with "
                        + "conveyor.outbound.allowed-networks)");
        assertThat(refusal(() -> policy.checkConnect("repoUrl", "https://inside.example/x")).why())
                .contains("private address");
        assertThat(refusal(() -> policy.checkConnect("repoUrl", "https://v6.example/x")).why())
                .contains("unique-local");
        // One refused answer among public ones is enough.
        assertThat(refusal(() -> policy.checkConnect("repoUrl", "https://mixed.example/x")).why())
                .contains("private address");
    }

    @Test
    void localhostIsRefusedThroughTheRealResolver() {
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("git")).build();

        assertThat(refusal(() -> policy.checkConnect("repoUrl", "git://localhost:9418/acme/shop.git")).why())
                .contains("loopback");
    }

    @Test
    void allowedUrlsPassWithTheirCheckedAddresses() {
        OutboundPolicy policy = defaults();

        OutboundPolicy.Target https = policy.checkConnect("repoUrl", "https://github.com/acme/shop.git");
        assertThat(https.addresses()).extracting(InetAddress::getHostAddress).containsExactly("140.82.112.3");
        OutboundPolicy.Target scp = policy.checkConnect("repoUrl", "git@github.com:acme/shop.git");
        assertThat(scp.scheme()).isEqualTo("ssh");
        assertThat(scp.user()).isEqualTo("git");
        assertThat(scp.host()).isEqualTo("github.com");
        assertThat(scp.path()).isEqualTo("acme/shop.git");
        assertThat(policy.checkConnect("repoUrl", "ssh://git@github.com:22/acme/shop.git").port()).isEqualTo(22);
    }

    @Test
    void allowedNetworksLetAPrivateGitServerIn() {
        OutboundPolicy policy = OutboundPolicy.builder().allowedNetworks(List.of("10.20.0.0/16")).resolver(fixed())
                .build();

        assertThat(policy.checkConnect("repoUrl", "git@git.corp.example:team/app.git").addresses()).hasSize(1);
        assertThat(refusal(() -> policy.checkConnect("repoUrl", "https://inside.example/x")).why())
                .contains("private address");
    }

    @Test
    void hostPatternsLimitTheHosts() {
        OutboundPolicy policy = OutboundPolicy.builder().hosts(List.of("github.com", "*.corp.example"))
                .allowedNetworks(List.of("10.0.0.0/8")).resolver(fixed()).build();

        assertThat(policy.check("repoUrl", "https://github.com/a/b").host()).isEqualTo("github.com");
        assertThat(policy.check("repoUrl", "https://git.corp.example/a/b").host()).isEqualTo("git.corp.example");
        assertThat(refusal(() -> policy.check("repoUrl", "https://corp.example/a/b")).why())
                .contains("conveyor.outbound.hosts");
        assertThat(refusal(() -> policy.check("repoUrl", "https://evilgithub.com/a/b")).why())
                .contains("conveyor.outbound.hosts");
    }

    @Test
    void hostPatternsCanNameAPort() {
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("git", "https", "ssh")).hosts(List.of(
                "127.0.0.1:9418", "github.com:443", "[::1]:2222")).allowedNetworks(List.of("127.0.0.1/32",
                        "::1/128"))
                .resolver(fixed()).build();

        assertThat(policy.check("repoUrl", "git://127.0.0.1/acme/shop.git").port()).isEqualTo(-1);
        assertThat(policy.check("repoUrl", "git://127.0.0.1:9418/acme/shop.git").port()).isEqualTo(9418);
        assertThat(policy.check("repoUrl", "https://github.com/acme/shop.git").host()).isEqualTo("github.com");
        assertThat(policy.check("repoUrl", "ssh://git@[::1]:2222/acme/shop.git").host()).isEqualTo("::1");
        assertThat(refusal(() -> policy.check("repoUrl", "git://127.0.0.1:8080/q/metrics")).why())
                .isEqualTo("has the host 127.0.0.1:8080, which is not allowed (conveyor.outbound.hosts)");
        assertThat(refusal(() -> policy.check("repoUrl", "git@github.com:acme/shop.git")).why())
                .contains("not allowed");
    }

    @Test
    void fileUrlsOnlyUnderTheRootsAndNotThroughSymbolicLinks(@TempDir Path dir) throws Exception {
        Path root = Files.createDirectories(dir.resolve("data/repos"));
        Path secrets = Files.writeString(dir.resolve("data/secrets.env"), "TOKEN=x");
        Path repo = Files.createDirectories(root.resolve("shop.git"));
        Files.createSymbolicLink(root.resolve("escape"), secrets);
        Files.createSymbolicLink(root.resolve("up"), dir);
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("file")).fileRoots(List.of(root)).build();

        assertThat(policy.checkConnect("repoUrl", repo.toUri().toString()).file()).isEqualTo(repo.toRealPath());
        assertThat(policy.checkConnect("repoUrl", repo.toString()).file()).isEqualTo(repo.toRealPath());
        assertThat(refusal(() -> policy.checkConnect("repoUrl", secrets.toUri().toString())).why())
                .contains("outside the allowed file directories");
        assertThat(refusal(() -> policy.check("repoUrl", "file://" + root + "/../secrets.env")).why())
                .contains("outside the allowed file directories");
        // Lexically inside, really outside.
        assertThat(policy.check("repoUrl", "file://" + root + "/escape").file()).isNotNull();
        assertThat(refusal(() -> policy.checkConnect("repoUrl", "file://" + root + "/escape")).why())
                .contains("outside the allowed file directories");
        assertThat(refusal(() -> policy.checkConnect("repoUrl", "file://" + root + "/up/data/secrets.env")).why())
                .contains("outside the allowed file directories");
        assertThat(refusal(() -> policy.checkConnect("repoUrl", "file://" + root + "/missing/../../secrets.env"))
                .why()).contains("outside");
        assertThat(refusal(() -> policy.check("repoUrl", "file://otherhost" + root + "/shop.git")).why())
                .contains("with a host");
    }

    @Test
    void anUnresolvableHostIsTransientNotAllowed() {
        assertThatThrownBy(() -> defaults().checkConnect("repoUrl", "https://nowhere.example/x"))
                .isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e).isNotInstanceOf(OutboundRefused.class);
                    assertThat(e.kind()).isEqualTo(FailureKind.TRANSIENT);
                    assertThat(e.reason()).isEqualTo("HOST_UNRESOLVED");
                    assertThat(e.details()).containsEntry("field", "repoUrl");
                });
    }

    @Test
    void badAllowedNetworksFailNamingTheKey() {
        assertThatThrownBy(() -> OutboundPolicy.builder().allowedNetworks(List.of("example.com/8")))
                .hasMessageContaining("conveyor.outbound.allowed-networks");
        assertThatThrownBy(() -> OutboundPolicy.builder().allowedNetworks(List.of("10.0.0.0/33")))
                .hasMessageContaining("prefix length");
    }
}
