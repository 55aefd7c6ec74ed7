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

/// Only the methods of the route table (GET and HEAD), no request body: 405 (with `Allow`) on a
/// path served, 404 elsewhere, 413 for a body.
struct RequestLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The `Allow` header per path served (`ServeRoutes.allow`).
    let allow: [String: String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        if let allowed = allow[path] {
            let methods = allowed.split(separator: ",").map { $0.trimmingPrefix(" ") }
            if !methods.contains(where: { $0 == request.method.rawValue }) {
                throw HTTPError(
                    .methodNotAllowed, headers: [.allow: allowed],
                    message: "\(request.method.rawValue) is not allowed on \(path); use GET")
            }
        } else if request.method != .get && request.method != .head {
            throw HTTPError(.notFound)
        }
        let length = request.headers[.contentLength].flatMap { Int($0) } ?? 0
        if length > 0 || request.headers[.transferEncoding] != nil {
            throw HTTPError(.contentTooLarge, message: "this API takes no request body; send GET without one")
        }
        return try await next(request, context)
    }
}

/// Asks for credentials unless the request carries good ones (401, the same answer for every
/// failure); a token whose scope is `metrics` gets 403 anywhere but the routes of that scope in
/// the route table (`/metrics`).
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let auth: Authenticator
    /// `ServeRoutes.metricsPaths`.
    let metricsPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        switch auth.access(authorization: request.headers[.authorization]) {
        case .denied:
            throw HTTPError(
                .unauthorized, headers: [.wwwAuthenticate: auth.challenge],
                message: "authentication required: send the bearer token or basic-auth credentials")
        case .metricsOnly where !metricsPaths.contains(request.uri.path):
            throw HTTPError(
                .forbidden,
                message: "this token may read \(metricsPaths.sorted().joined(separator: ", ")) only "
                    + "(its scope in the token file is 'metrics'); use a token with the scope 'all' for "
                    + request.uri.path)
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
