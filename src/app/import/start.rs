//! Where an import's rows come from: a reader thread for the file's kind, its header
//! first, then its rows in batches through a bounded channel.

use tokio::sync::mpsc;

use super::read::{csv_encoding, read_csv, FileKind, Header, RawRow};
use super::xlsx::{read_xlsx, Limits};
use crate::error::{AppError, AppResult, Code};

/// Starts a reader thread for `kind` and returns the header and the batch receiver.
pub async fn start_reader(
    kind: FileKind,
    source: ReaderSource,
) -> AppResult<(Header, mpsc::Receiver<Vec<RawRow>>)> {
    let (header_tx, header_rx) = tokio::sync::oneshot::channel();
    // Four batches in flight at most: memory stays bounded whatever the file size.
    let (rows_tx, rows_rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || match (kind, source) {
        (FileKind::Csv, ReaderSource::Bytes(bytes)) => {
            let encoding = csv_encoding(&bytes);
            read_csv(std::io::Cursor::new(bytes), encoding, header_tx, rows_tx)
        }
        (FileKind::Csv, ReaderSource::File(mut file)) => {
            let mut sample = vec![0u8; 64 * 1024];
            let encoding = match std::io::Read::read(&mut file, &mut sample)
                .and_then(|n| std::io::Seek::rewind(&mut file).map(|_| n))
            {
                Ok(n) => csv_encoding(&sample[..n]),
                Err(e) => {
                    let _ = header_tx.send(Err(format!("cannot read the file: {e}")));
                    return;
                }
            };
            read_csv(std::io::BufReader::new(file), encoding, header_tx, rows_tx)
        }
        (FileKind::Xlsx, ReaderSource::Bytes(bytes)) => {
            read_xlsx(bytes, Limits::DEFAULT, header_tx, rows_tx)
        }
        (FileKind::Xlsx, ReaderSource::File(mut file)) => {
            let mut bytes = Vec::new();
            match std::io::Read::read_to_end(&mut file, &mut bytes) {
                Ok(_) => read_xlsx(bytes, Limits::DEFAULT, header_tx, rows_tx),
                Err(e) => {
                    let _ = header_tx.send(Err(format!("cannot read the file: {e}")));
                }
            }
        }
    });
    let header = header_rx
        .await
        .map_err(|_| AppError::internal(anyhow::anyhow!("the reader stopped")))?
        .map_err(|m| AppError::unprocessable(Code::UnreadableFile, m))?;
    Ok((Header::parse(&header)?, rows_rx))
}

pub enum ReaderSource {
    Bytes(Vec<u8>),
    File(std::fs::File),
}
