import NIOCore
import NIOPosix

/// Accepts TCP connections on a fixed loopback port and relays them to the embedded broker's bootstrap address.
/// The mock cluster listens on ports it picks itself; clients that were told a fixed port bootstrap through this
/// relay and then connect straight to the brokers the metadata names (also on loopback).
public final class BootstrapForwarder: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    /// Starts relaying `127.0.0.1:port` to `target` (`host:port`, the first of a bootstrap list).
    public static func start(port: Int, target: String) async throws -> BootstrapForwarder {
        let first = target.split(separator: ",").first.map(String.init) ?? target
        guard let colon = first.lastIndex(of: ":"), let targetPort = Int(first[first.index(after: colon)...]) else {
            throw KafkaError(message: "bootstrap forwarder: cannot parse target address \(target)")
        }
        let targetHost = String(first[..<colon])
        let group = MultiThreadedEventLoopGroup.singleton
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { inbound in
                    inbound.setOption(.autoRead, value: false).flatMap {
                        ClientBootstrap(group: inbound.eventLoop).connect(host: targetHost, port: targetPort)
                    }.flatMap { outbound in
                        let (a, b) = RelayHandler.pair()
                        return inbound.pipeline.addHandler(a).flatMap { outbound.pipeline.addHandler(b) }.flatMap {
                            inbound.setOption(.autoRead, value: true)
                        }
                    }
                }
                .bind(host: "127.0.0.1", port: port).get()
            return BootstrapForwarder(channel: channel)
        } catch {
            throw KafkaError(message: "cannot listen on 127.0.0.1:\(port): \(error)")
        }
    }

    public func stop() async throws {
        try await channel.close()
    }
}

/// Copies bytes between two channels; closing either side closes the other.
private final class RelayHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?

    static func pair() -> (RelayHandler, RelayHandler) {
        let a = RelayHandler()
        let b = RelayHandler()
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func forward(_ data: ByteBuffer) {
        guard let context else { return }
        context.eventLoop.execute { [self] in
            guard let context = self.context else { return }
            context.writeAndFlush(NIOAny(data), promise: nil)
        }
    }

    private func closeFromPartner() {
        guard let context else { return }
        context.eventLoop.execute { [self] in self.context?.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.forward(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.closeFromPartner()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
