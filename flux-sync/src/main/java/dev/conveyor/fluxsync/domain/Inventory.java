package dev.conveyor.fluxsync.domain;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a repository put into the cluster, per owner (a file of the repository or a release), as of its last sync.
 * Pruning compares the previous inventory with the new desired objects; an owner that could not be synced this round
 * keeps its previous entries.
 */
public record Inventory(Map<String, Set<ObjectRef>> byOwner) {

    public Inventory {
        Map<String, Set<ObjectRef>> copy = new TreeMap<>();
        byOwner.forEach((k, v) -> copy.put(k, Set.copyOf(new TreeSet<>(v))));
        byOwner = java.util.Collections.unmodifiableMap(copy);
    }

    public static Inventory empty() {
        return new Inventory(Map.of());
    }

    /** The inventory of a set of applied objects. */
    public static Inventory of(Collection<Manifest> objects) {
        Map<String, Set<ObjectRef>> map = new TreeMap<>();
        for (Manifest m : objects) {
            map.computeIfAbsent(m.owner(), k -> new LinkedHashSet<>()).add(m.ref());
        }
        return new Inventory(map);
    }

    public Set<ObjectRef> all() {
        Set<ObjectRef> all = new TreeSet<>();
        byOwner.values().forEach(all::addAll);
        return all;
    }

    public int size() {
        return byOwner.values().stream().mapToInt(Set::size).sum();
    }

    /** This inventory, with the entries of {@code held} owners taken from {@code previous} instead. */
    public Inventory holding(Inventory previous, Set<String> held) {
        Map<String, Set<ObjectRef>> map = new TreeMap<>(byOwner);
        for (String owner : held) {
            Set<ObjectRef> kept = previous.byOwner.get(owner);
            if (kept != null) {
                Set<ObjectRef> merged = new LinkedHashSet<>(map.getOrDefault(owner, Set.of()));
                merged.addAll(kept);
                map.put(owner, merged);
            }
        }
        return new Inventory(map);
    }

    /**
     * The objects to delete: in {@code previous}, in no owner of this inventory (an object moved from one file to
     * another is not deleted), in prune order.
     */
    public List<ObjectRef> pruneFrom(Inventory previous) {
        Set<String> keep = new java.util.HashSet<>();
        all().forEach(r -> keep.add(r.id()));
        List<ObjectRef> out = new ArrayList<>();
        for (ObjectRef r : previous.all()) {
            if (keep.add(r.id())) {
                out.add(r);
            }
        }
        out.sort(KindOrder.PRUNE);
        return out;
    }

    /** Serialised per owner: one {@link ObjectRef#toLine()} per line. */
    public Map<String, String> toData() {
        Map<String, String> data = new TreeMap<>();
        byOwner.forEach((owner, refs) -> {
            StringBuilder sb = new StringBuilder();
            new TreeSet<>(refs).forEach(r -> sb.append(r.toLine()).append('\n'));
            data.put(owner, sb.toString());
        });
        return data;
    }

    /** Reads {@link #toData()}; lines that do not parse are skipped. */
    public static Inventory fromData(Map<String, String> data) {
        Map<String, Set<ObjectRef>> map = new TreeMap<>();
        if (data != null) {
            data.forEach((owner, lines) -> {
                Set<ObjectRef> refs = new LinkedHashSet<>();
                for (String line : lines.split("\n")) {
                    ObjectRef r = line.isBlank() ? null : ObjectRef.fromLine(line);
                    if (r != null) {
                        refs.add(r);
                    }
                }
                map.put(owner, refs);
            });
        }
        return new Inventory(map);
    }
}
