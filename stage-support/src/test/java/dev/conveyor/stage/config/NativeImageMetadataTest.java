package dev.conveyor.stage.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.testkit.nativeimage.NativeImageMetadata;
import dev.conveyor.testkit.nativeimage.NativeImageMetadataContract;

/** The native-image metadata check, on stage-support's own metadata and on broken metadata it must refuse. */
class NativeImageMetadataTest extends NativeImageMetadataContract {

    static final ClassLoader LOADER = NativeImageMetadataTest.class.getClassLoader();

    @TempDir
    Path tmp;

    @Test
    void aModuleWithoutHelmJavaIsToldSoRatherThanPassing() {
        NativeImageMetadata metadata = NativeImageMetadata.read(Path.of("target/classes"), LOADER);
        // JNA is on this module's class path, helm-java is not: both facts are reported, nothing passes.
        assertThat(metadata.missingHelmJavaRegistrations()).anyMatch(l -> l.startsWith(
                "helm-java's structures were not found")).contains("proxy: com.marcnuri.helm.jni.HelmLib",
                        "resource: helm-linux-amd64.so");
    }

    @Test
    void stageSupportsJGitAndSshMetadataResolves() {
        NativeImageMetadata metadata = NativeImageMetadata.read(Path.of("target/classes"), LOADER);

        assertThat(metadata.problems()).isEmpty();
        assertThat(metadata.reflection()).contains("org.eclipse.jgit.internal.JGitText",
                "org.eclipse.jgit.internal.transport.sshd.SshdText", "org.eclipse.jgit.lib.CoreConfig$AutoCRLF",
                "org.apache.sshd.common.util.security.eddsa.EdDSASecurityProviderRegistrar",
                "org.apache.sshd.common.io.nio2.Nio2ServiceFactoryFactory", "net.i2p.crypto.eddsa.KeyFactory");
        assertThat(metadata.bundles()).containsExactlyInAnyOrder("org.eclipse.jgit.internal.JGitText",
                "org.eclipse.jgit.internal.transport.sshd.SshdText");
        assertThat(metadata.runTimeInitialized()).contains("org.apache.sshd",
                "org.eclipse.jgit.internal.storage.file.WindowCache");
    }

    @Test
    void typosMissingMembersEmptyGlobsAndUnregisteredJacksonTypesAreFound() throws IOException {
        Path classes = fixture("""
                [
                  {"name": "org.eclipse.jgit.internal.JGitTxt"},
                  {"name": "org.eclipse.jgit.lib.CoreConfig$AutoCRLF", "fields": [{"name": "TRUE"}, {"name": "MAYBE"}]},
                  {"name": "net.i2p.crypto.eddsa.KeyFactory",
                   "methods": [{"name": "<init>", "parameterTypes": []}, {"name": "engineFoo", "parameterTypes": []}]}
                ]
                """, "org/eclipse/jgit/internal/*.properties,org/eclipse/jgit/nothing/*.json,nowhere.so",
                "org.apache.sshd,org.apache.sshx");

        NativeImageMetadata metadata = NativeImageMetadata.read(classes, LOADER);

        String config = "META-INF/native-image/t/t/reflect-config.json";
        assertThat(metadata.problems()).containsExactlyInAnyOrder(
                config + ": class org.eclipse.jgit.internal.JGitTxt is not on the class path",
                config + ": org.eclipse.jgit.lib.CoreConfig$AutoCRLF has no field MAYBE",
                config + ": net.i2p.crypto.eddsa.KeyFactory has no method engineFoo[]",
                "application.properties: glob org/eclipse/jgit/nothing/*.json matches no resource on the class path",
                "application.properties: resource nowhere.so is not on the class path",
                "META-INF/native-image/t/t/native-image.properties: --initialize-at-run-time names org.apache.sshx,"
                        + " neither a class nor a package on the class path",
                "dev.conveyor.stage.config.JacksonFixture$Payload is bound by Jackson but not registered for reflection",
                "dev.conveyor.stage.config.JacksonFixture$Item is bound by Jackson but not registered for reflection");
        assertThat(metadata.jacksonBound()).containsExactlyInAnyOrder(
                "dev.conveyor.stage.config.JacksonFixture$Payload",
                "dev.conveyor.stage.config.JacksonFixture$Item");
    }

    @Test
    void correctMetadataPasses() throws IOException {
        Path classes = fixture("""
                [
                  {"name": "dev.conveyor.stage.config.JacksonFixture$Payload", "allDeclaredFields": true},
                  {"name": "dev.conveyor.stage.config.JacksonFixture$Item", "allDeclaredFields": true},
                  {"name": "net.i2p.crypto.eddsa.KeyFactory", "methods": [{"name": "<init>", "parameterTypes": []}]}
                ]
                """, "org/eclipse/jgit/internal/*.properties,org/eclipse/jgit/**/SshdText.properties",
                "org.apache.sshd,org.eclipse.jgit.util.FileUtils");

        NativeImageMetadata metadata = NativeImageMetadata.read(classes, LOADER);

        assertThat(metadata.problems()).isEmpty();
        assertThat(metadata.resourceIncludes()).containsExactly("org/eclipse/jgit/internal/*.properties",
                "org/eclipse/jgit/**/SshdText.properties");
    }

    /** A classes directory with the Jackson fixture's classes and the given metadata. */
    private Path fixture(String reflectConfig, String includes, String runTime) throws IOException {
        // One directory per fixture: the temporary directory is shared by the class's tests.
        Path classes = Files.createTempDirectory(tmp, "classes");
        Path pkg = classes.resolve("dev/conveyor/stage/config");
        Files.createDirectories(pkg);
        for (String name : new String[]{"JacksonFixture", "JacksonFixture$Payload", "JacksonFixture$Item"}) {
            Files.copy(Path.of("target/test-classes/dev/conveyor/stage/config/" + name + ".class"), pkg.resolve(
                    name + ".class"));
        }
        Path meta = classes.resolve("META-INF/native-image/t/t");
        Files.createDirectories(meta);
        Files.writeString(meta.resolve("reflect-config.json"), reflectConfig);
        Files.writeString(meta.resolve("native-image.properties"), "Args = --initialize-at-run-time=" + runTime
                + "\n");
        Files.writeString(classes.resolve("application.properties"), "quarkus.native.resources.includes=" + includes
                + "\n");
        return classes;
    }
}
