//! The protobuf codec every generated service and client uses: prost's, except that a message that does
//! not parse is INVALID_ARGUMENT saying where it broke, not INTERNAL. A request that does not parse is the
//! caller's to fix (invalid UTF-8 in a string, a field of the wrong wire type, a truncated message), and
//! INTERNAL would tell them and their alerts that the server failed. (A response that does not parse —
//! a server of another version — reads the same way on the client's side.)

use std::marker::PhantomData;

use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, DecodeBuf, EncodeBuf};
use tonic_prost::ProstEncoder;

use crate::convert::bounded;

/// The codec of every oneledger service.
#[derive(Debug, Clone)]
pub struct Codec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Codec {
            _types: PhantomData,
        }
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = Encoder<T>;
    type Decoder = Decoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        Encoder(ProstEncoder::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        Decoder {
            _type: PhantomData,
            buffer_settings: BufferSettings::default(),
        }
    }
}

/// prost's encoder.
#[derive(Debug)]
pub struct Encoder<T>(ProstEncoder<T>);

impl<T: Message> tonic::codec::Encoder for Encoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        self.0.encode(item, buf)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}

/// prost's decoding, a failure answered INVALID_ARGUMENT.
#[derive(Debug)]
pub struct Decoder<U> {
    _type: PhantomData<U>,
    buffer_settings: BufferSettings,
}

impl<U: Message + Default> tonic::codec::Decoder for Decoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|e| {
            Status::invalid_argument(bounded(&format!("the message does not parse: {e}")))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.buffer_settings
    }
}
