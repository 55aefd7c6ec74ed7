import HTTPTypes
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// What `serve` is configured with: where to listen, who may ask, TLS.
public struct ServeSettings: Sendable {
    public var listen = ListenAddress()
    public var tokens: [BearerToken] = []
    public var web = WebConfig()
    /// Connections idle (no request being read or answered) this long are closed.
    public var idleTimeoutSeconds: Int64 = 10
    /// A request head must be complete this long after the connection opens or the previous
    /// response ends, else the connection is closed (slowloris).
    public var headerTimeoutSeconds: Int64 = 10

    public init() {}

    public var authenticator: Authenticator { Authenticator(tokens: tokens, users: web.basicAuthUsers) }

    /// Loopback unless authentication is configured.
    public func validate() throws(ServeError) {
        if !listen.isLoopback && !authenticator.isEnabled {
            throw .unauthenticatedNonLoopback(listen.description)
        }
    }

    public var scheme: String { web.tls == nil ? "http" : "https" }
}

/// The HTTP side of `serve`: routes, middleware, TLS, limits; run under a ServiceGroup.
public enum ServeServer {
    public static func makeApplication(
        settings: ServeSettings, metrics: ServeMetrics, feed: LiveFeed, logger: Logger, historyPath: String? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws(ServeError) -> some ApplicationProtocol {
        let router = Router(options: .autoGenerateHeadEndpoints)
        let headers = settings.web.headers.compactMap { k, v in HTTPField.Name(k).map { ($0, v) } }
        router.add(middleware: HeadersMiddleware(headers: headers))
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: AuthMiddleware(auth: settings.authenticator, metricsPaths: ServeRoutes.metricsPaths))
        router.add(middleware: RequestLimitsMiddleware(allow: ServeRoutes.allow))
        ApiRoutes(metrics: metrics, feed: feed, historyPath: historyPath).register(on: router)
        let headerTimeout = TimeAmount.seconds(settings.headerTimeoutSeconds)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [HeaderTimeoutHandler(timeout: headerTimeout)],
            idleTimeout: .seconds(settings.idleTimeoutSeconds),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: 8192, maxHeaderListSize: 16_384, maxHeaderFieldCount: 100))
        let server: HTTPServerBuilder
        if let tls = settings.web.tls {
            do {
                server = try .tls(.http1(configuration: http1), tlsConfiguration: tlsConfiguration(tls))
            } catch let e as ServeError { throw e } catch { throw .tls(problem: "\(error)") }
        } else {
            server = .http1(configuration: http1)
        }
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(settings.listen.host, port: settings.listen.port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    static func tlsConfiguration(_ tls: WebConfig.TLS) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(tls.certFile) } catch {
            throw ServeError.tls(problem: "cannot read the certificate \(tls.certFile): \(error)")
        }
        do { key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem) } catch {
            throw ServeError.tls(problem: "cannot read the key \(tls.keyFile): \(error)")
        }
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        config.minimumTLSVersion = version(tls.minVersion)
        if let max = tls.maxVersion { config.maximumTLSVersion = version(max) }
        switch tls.clientAuthType {
        case "RequireAndVerifyClientCert", "VerifyClientCertIfGiven", "RequireAnyClientCert":
            // NIOSSL asks for and verifies a client certificate; "if given" is not expressible.
            config.certificateVerification = .noHostnameVerification
            if let ca = tls.clientCAFile { config.trustRoots = .file(ca) }
        default:
            config.certificateVerification = .none
        }
        return config
    }

    static func version(_ v: String) -> TLSVersion {
        switch v {
        case "TLS10": .tlsv1
        case "TLS11": .tlsv11
        case "TLS13": .tlsv13
        default: .tlsv12
        }
    }
}
