package dev.conveyor.testkit;

import java.lang.reflect.Field;
import java.util.function.Predicate;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager.TestInjector;

/**
 * What Quarkus' injector does for a test resource, without starting an application: sets the matching fields of one
 * object. Lets the testkit's resources be tested directly.
 */
public record FieldInjector(Object target) implements TestInjector {

    @Override
    public void injectIntoFields(Object fieldValue, Predicate<Field> predicate) {
        for (Field field : target.getClass().getDeclaredFields()) {
            if (predicate.test(field)) {
                field.setAccessible(true);
                try {
                    field.set(target, fieldValue);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
