package dev.conveyor.fluxsync.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;

/** Which files of a revision are listed and read, for one configured path and for several (Flux v1 --git-path). */
class GitopsSnapshotTest {

    @Test
    void onePathNamesFilesFromItSeveralPathsFromTheRootAndChartsAreFoundAnywhere() throws Exception {
        try (GitRepos repos = new GitRepos()) {
            BareRepo bare = repos.createBare("paths");
            String head = bare.writer().file("clusters/prod/apps.yaml", "kind: A\n")
                    .file("infrastructure/sources.yaml", "kind: B\n")
                    .file("infrastructure/.sourceignore", "drafts/\n")
                    .file("infrastructure/notes.md", "# notes\n")
                    .file("apps/web.yaml", "kind: C\n")
                    .file("charts/web/Chart.yaml", "name: web\n")
                    .file("charts/web/templates/cm.yaml", "kind: ConfigMap\n")
                    .message("layout").commit();
            try (Repository git = new FileRepositoryBuilder().setGitDir(bare.path().toFile()).setMustExist(true)
                    .build()) {
                GitopsSnapshot one = GitopsSnapshot.read(git, head, "/infrastructure/");
                assertThat(one.yamlFiles()).containsOnlyKeys("sources.yaml", ".sourceignore");
                assertThat(one.allPaths()).containsExactlyInAnyOrder("sources.yaml", ".sourceignore", "notes.md");

                GitopsSnapshot several = GitopsSnapshot.read(git, head, "clusters/prod, infrastructure");
                assertThat(several.yamlFiles()).containsOnlyKeys("clusters/prod/apps.yaml",
                        "infrastructure/sources.yaml", "infrastructure/.sourceignore");
                // a chart outside the paths is still found (and can be rendered), nothing else outside is listed
                assertThat(several.allPaths()).containsExactlyInAnyOrder("clusters/prod/apps.yaml",
                        "infrastructure/sources.yaml", "infrastructure/.sourceignore", "infrastructure/notes.md",
                        "charts/web/Chart.yaml");
                assertThat(several.readFile("charts/web/templates/cm.yaml")).contains("kind: ConfigMap\n");

                GitopsSnapshot root = GitopsSnapshot.read(git, head, "");
                assertThat(root.yamlFiles()).containsKeys("apps/web.yaml", "charts/web/templates/cm.yaml");
                assertThat(GitopsSnapshot.paths(" / ")).isEqualTo(List.of(""));
                assertThat(GitopsSnapshot.paths("a/,/b")).isEqualTo(List.of("a", "b"));
            }
        }
    }
}
