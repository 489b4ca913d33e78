//! gRPC reflection for one port: v1 and v1alpha (which common clients such as older grpcurl and
//! Postman still speak), each listing exactly the services that port serves, with health and
//! reflection itself.

use tonic_reflection::server::{Builder, Error, v1, v1alpha};

/// The standard services every port serves beside its own.
const STANDARD: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

fn builder(services: &[&str]) -> Builder<'static> {
    services.iter().chain(STANDARD.iter()).fold(
        Builder::configure()
            .register_encoded_file_descriptor_set(crate::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // Both versions' own descriptors, once each, so either lists both.
            .include_reflection_service(false)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            ),
        |b, name| b.with_service_name(*name),
    )
}

/// Reflection v1 and v1alpha listing `services` (full names, e.g. `oneledger.ledger.v2.LedgerService`).
#[allow(clippy::type_complexity)] // the builder's own return types
pub fn for_services(
    services: &[&str],
) -> Result<
    (
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    Error,
> {
    Ok((
        builder(services).build_v1()?,
        builder(services).build_v1alpha()?,
    ))
}
