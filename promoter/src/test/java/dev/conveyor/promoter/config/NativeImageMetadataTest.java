package dev.conveyor.promoter.config;

import dev.conveyor.testkit.nativeimage.NativeImageMetadataContract;

/** This service's native-image metadata against its class path, helm-java and JNA included. */
class NativeImageMetadataTest extends NativeImageMetadataContract {

    NativeImageMetadataTest() {
        super(Bundles.HELM_JAVA);
    }
}
