package dev.conveyor.stage.git;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;

import org.eclipse.jgit.errors.TransportException;
import org.junit.jupiter.api.Test;

class GitFailureTest {

    @Test
    void portNumbersThatContainAuthStatusCodesAreNotAuthFailures() {
        var e = new TransportException("git://127.0.0.1:40135/app.git: Connection refused",
                new ConnectException("Connection refused"));
        assertThat(GitFailure.classify(e, "git://127.0.0.1:40135/app.git").reason()).isEqualTo("NETWORK");
        var f = new TransportException("https://127.0.0.1:34031/app.git: connection reset");
        assertThat(GitFailure.classify(f, "https://127.0.0.1:34031/app.git").reason()).isEqualTo("NETWORK");
    }

    @Test
    void httpAuthStatusesAreAuthFailures() {
        var e = new TransportException("https://git.example.com/app.git: 401 Unauthorized");
        assertThat(GitFailure.classify(e, "https://git.example.com/app.git").reason()).isEqualTo("AUTH_DENIED");
        var f = new TransportException("https://git.example.com/app.git: status 403");
        assertThat(GitFailure.classify(f, "https://git.example.com/app.git").reason()).isEqualTo("AUTH_DENIED");
    }
}
