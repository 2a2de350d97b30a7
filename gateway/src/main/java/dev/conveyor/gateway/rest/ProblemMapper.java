package dev.conveyor.gateway.rest;

import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import dev.conveyor.gateway.service.GatewayException;

/** Every refused request is answered with a problem document. */
public class ProblemMapper {

    @ServerExceptionMapper
    public Response map(GatewayException e) {
        return Problem.of(e);
    }
}
