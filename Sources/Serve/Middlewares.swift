import HTTPTypes
import Hummingbird

/// Every error as JSON: `{"error":{"status":N,"message":"…"}}`, with the right status.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            var headers = error.headers
            let message = error.body ?? Self.defaultMessage(error.status, request)
            return JSONResponse.make(status: error.status, headers: &headers, message: message)
        } catch {
            var headers = HTTPFields()
            return JSONResponse.make(
                status: .internalServerError, headers: &headers, message: "internal error: \(error)")
        }
    }

    static func defaultMessage(_ status: HTTPResponse.Status, _ request: Request) -> String {
        switch status {
        case .notFound: "no such resource: \(request.uri.path); see /api/v1/openapi.json"
        default: status.reasonPhrase
        }
    }
}

enum JSONResponse {
    static func make(status: HTTPResponse.Status, headers: inout HTTPFields, message: String) -> Response {
        headers[.contentType] = "application/json"
        let body = ServeJSON.error(status: status.code, message: message) + "\n"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Only GET and HEAD, no request body, on the paths we serve: 405 (with `Allow`) or 413.
struct RequestLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    let paths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.method != .get && request.method != .head {
            guard paths.contains(request.uri.path) else { throw HTTPError(.notFound) }
            throw HTTPError(
                .methodNotAllowed, headers: [.allow: "GET, HEAD"],
                message: "\(request.method.rawValue) is not allowed on \(request.uri.path); use GET")
        }
        let length = request.headers[.contentLength].flatMap { Int($0) } ?? 0
        if length > 0 || request.headers[.transferEncoding] != nil {
            throw HTTPError(.contentTooLarge, message: "this API takes no request body; send GET without one")
        }
        return try await next(request, context)
    }
}

/// Asks for credentials unless the request carries good ones (401, the same answer for every
/// failure); a token whose scope is `metrics` gets 403 anywhere but `/metrics`.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let auth: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        switch auth.access(authorization: request.headers[.authorization]) {
        case .denied:
            throw HTTPError(
                .unauthorized, headers: [.wwwAuthenticate: auth.challenge],
                message: "authentication required: send the bearer token or basic-auth credentials")
        case .metricsOnly where request.uri.path != "/metrics":
            throw HTTPError(
                .forbidden,
                message: "this token may read /metrics only (its scope in the token file is 'metrics'); "
                    + "use a token with the scope 'all' for \(request.uri.path)")
        case .metricsOnly, .all:
            return try await next(request, context)
        }
    }
}

/// The web config's `http_server_config.headers` on every response.
struct HeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let headers: [(HTTPField.Name, String)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        for (name, value) in headers { response.headers[name] = value }
        return response
    }
}
