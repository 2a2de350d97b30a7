package dev.conveyor.imagebuilder.support;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * A real {@link HttpClient} whose requests matching a predicate fail as a dropped connection would, before they are
 * sent: a process that dies at that point of a push, seen from the registry.
 */
public final class FailingHttpClient extends HttpClient {

    private final HttpClient delegate;
    private final Predicate<HttpRequest> fails;
    private final AtomicInteger failed = new AtomicInteger();

    public FailingHttpClient(HttpClient delegate, Predicate<HttpRequest> fails) {
        this.delegate = delegate;
        this.fails = fails;
    }

    /** Requests failed so far. */
    public int failed() {
        return failed.get();
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException,
            InterruptedException {
        if (fails.test(request)) {
            failed.incrementAndGet();
            throw new IOException("connection reset (injected before " + request.method() + " " + request.uri()
                    .getPath() + ")");
        }
        return delegate.send(request, handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        return sendAsync(request, handler, null);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
            HttpResponse.PushPromiseHandler<T> push) {
        if (fails.test(request)) {
            failed.incrementAndGet();
            return CompletableFuture.failedFuture(new IOException("connection reset (injected)"));
        }
        return delegate.sendAsync(request, handler, push);
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return delegate.authenticator();
    }

    @Override
    public Version version() {
        return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
        return delegate.executor();
    }
}
