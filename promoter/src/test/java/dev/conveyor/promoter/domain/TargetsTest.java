package dev.conveyor.promoter.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;

class TargetsTest {

    static final String REPO = "ssh://git@git.example.com/acme/gitops.git";

    static TargetRule rule(String id, String environment, PromotionMode mode, List<String> apps) {
        return new TargetRule(id, new PromotionTarget(REPO, "main", environment, "shop", null, mode,
                ReleaseKind.FLUX_HELM_RELEASE), apps, List.of());
    }

    @Test
    void platformTargetsMatchByAppAndTheyWinOverTheAppsOwnEntries() {
        ConveyorYaml app = ConveyorYaml.parse("""
                promote:
                  - gitopsRepo: %s
                    environment: production
                    namespace: shop
                    mode: auto
                  - gitopsRepo: %s
                    environment: qa
                    namespace: shop-qa
                    release: cart-qa
                """.formatted(REPO, REPO));
        List<PromotionTarget> targets = Targets.resolve(List.of(rule("prod", "production",
                PromotionMode.PULL_REQUEST, List.of("cart")),
                rule("other", "staging", PromotionMode.AUTO, List.of(
                        "billing"))),
                app, "cart", "cart", Set.of(), "main");

        assertThat(targets).extracting(PromotionTarget::environment, PromotionTarget::mode, PromotionTarget::release)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("production", PromotionMode.PULL_REQUEST, "cart"),
                        org.assertj.core.groups.Tuple.tuple("qa", PromotionMode.AUTO, "cart-qa"));
    }

    @Test
    void appEntriesAreCheckedAndMayOnlyNameKnownRepositories() {
        assertThatThrownBy(() -> Targets.resolve(List.of(), ConveyorYaml.parse("""
                promote:
                  - gitopsRepo: https://evil.example.com/x.git
                    environment: prod
                    namespace: shop
                """), "cart", "cart", Set.of(), "main")).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("promote.gitopsRepo");
        assertThatThrownBy(() -> Targets.resolve(List.of(), ConveyorYaml.parse("""
                promote:
                  - gitopsRepo: %s
                    environment: prod
                    namespace: ../../etc
                """.formatted(REPO)), "cart", "cart", Set.of(REPO), "main"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("promote[0].namespace");
        assertThatThrownBy(() -> Targets.resolve(List.of(), ConveyorYaml.parse("""
                promote:
                  - gitopsRepo: %s
                    environment: prod
                    namespace: shop
                    mdoe: auto
                """.formatted(REPO)), "cart", "cart", Set.of(REPO), "main"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("promote[0].mdoe");
    }
}
