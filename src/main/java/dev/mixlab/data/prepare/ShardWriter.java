package dev.mixlab.data.prepare;

import dev.mixlab.data.DataException;
import dev.mixlab.data.ShardTokens;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one split as token shards {@code <prefix>_000000.bin}, {@code <prefix>_000001.bin}, ...
 * of at most {@code shardTokens} tokens each, in the format {@link ShardTokens} reads. The header's
 * token count is written when a shard is closed.
 */
final class ShardWriter implements AutoCloseable {
    private final Path dir;
    private final String prefix;
    private final long shardTokens;
    private final List<String> files = new ArrayList<>();
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private FileChannel ch;
    private Path current;
    private long inShard;
    private long total;

    ShardWriter(Path dir, String prefix, long shardTokens) {
        this.dir = dir;
        this.prefix = prefix;
        this.shardTokens = shardTokens;
    }

    /** Appends {@code ids[from..to)}; every id must be below 65536. */
    void write(int[] ids, int from, int to) {
        try {
            for (int i = from; i < to; i++) {
                if (ch == null) {
                    open();
                }
                int id = ids[i];
                if (id < 0 || id > 0xFFFF) {
                    throw new IllegalStateException("token id " + id + " does not fit uint16");
                }
                if (!buf.hasRemaining()) {
                    flush();
                }
                buf.putShort((short) id);
                inShard++;
                total++;
                if (inShard == shardTokens) {
                    finishShard();
                }
            }
        } catch (IOException e) {
            throw new DataException(String.valueOf(current), "cannot write the shard (" + e + ")",
                    "check the free disk space and that the directory is writable");
        }
    }

    private void open() throws IOException {
        current = dir.resolve(String.format("%s_%06d.bin", prefix, files.size()));
        ch = FileChannel.open(current, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        ch.write(ByteBuffer.allocate(ShardTokens.HEADER_BYTES), 0); // header, filled in at the end
        ch.position(ShardTokens.HEADER_BYTES);
        files.add(current.getFileName().toString());
        inShard = 0;
    }

    private void flush() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }

    private void finishShard() throws IOException {
        flush();
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(ShardTokens.MAGIC).putInt(ShardTokens.VERSION).putInt((int) inShard).flip();
        ch.write(h, 0);
        ch.close();
        ch = null;
    }

    /** Shard file names written, in order. */
    List<String> files() {
        return files;
    }

    /** Tokens written. */
    long tokens() {
        return total;
    }

    @Override
    public void close() {
        if (ch != null) {
            try {
                finishShard();
            } catch (IOException e) {
                throw new DataException(String.valueOf(current), "cannot write the shard (" + e + ")",
                        "check the free disk space and that the directory is writable");
            }
        }
    }
}
