// Starts Neo4j Community embedded with Bolt on 127.0.0.1 for development and tests; graph/local.py drives it.
//
// Usage: java -Xmx512m -cp 'lib/*:classes' LocalNeo4j --home DIR --port N [--pagecache 256m] [--parent-pid PID]
// Prints exactly one line "READY bolt://127.0.0.1:N" on stdout once Bolt accepts connections, or "FAILED <reason>"
// and exits 1. Shuts the database down cleanly on SIGTERM/SIGINT and when the parent process exits.

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

public final class LocalNeo4j {

    private LocalNeo4j() {}

    public static void main(String[] argv) throws InterruptedException {
        Map<String, String> args = parse(argv);
        Path home = Path.of(require(args, "home")).toAbsolutePath();
        int port = Integer.parseInt(require(args, "port"));
        long pageCache = bytes(args.getOrDefault("pagecache", "256m"));
        Optional<ProcessHandle> parent = Optional.ofNullable(args.get("parent-pid"))
                .flatMap(pid -> ProcessHandle.of(Long.parseLong(pid)));

        DatabaseManagementService service;
        try {
            service = new DatabaseManagementServiceBuilder(home)
                    .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                    .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                    .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    .setConfig(GraphDatabaseSettings.udc_enabled, false)
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                    // Idle Bolt connections would otherwise hold a stop up for 5 s twice; a local server stops fast.
                    .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofMillis(500))
                    .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofMillis(500))
                    .build();
        } catch (RuntimeException e) {
            System.out.println("FAILED " + rootMessage(e));
            System.out.flush();
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.shutdown();
            stopped.countDown();
        }, "local-neo4j-shutdown"));

        GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(60_000)) {
            System.out.println("FAILED database did not become available within 60 s; see " + home.resolve("logs"));
            System.out.flush();
            System.exit(1);
        }

        // Whoever started us owns our lifetime: if it dies (even by SIGKILL) we shut down rather than linger.
        parent.ifPresent(p -> p.onExit().thenRun(() -> System.exit(0)));
        if (args.containsKey("parent-pid") && parent.isEmpty()) {
            System.exit(0);
        }

        System.out.println("READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + argv[i]);
            }
            out.put(argv[i].substring(2), argv[i + 1]);
        }
        return out;
    }

    private static String require(Map<String, String> args, String name) {
        String value = args.get(name);
        if (value == null) {
            System.out.println("FAILED missing --" + name);
            System.exit(2);
        }
        return value;
    }

    /** "512m" -> bytes; accepts k, m, g suffixes or a plain number of bytes. */
    static long bytes(String text) {
        String t = text.trim().toLowerCase();
        long unit = 1;
        char last = t.charAt(t.length() - 1);
        if (last == 'k' || last == 'm' || last == 'g') {
            unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        return Long.parseLong(t) * unit;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        StringBuilder chain = new StringBuilder(String.valueOf(t.getMessage()));
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            chain.append(": ").append(t.getMessage());
        }
        return chain.toString().replace('\n', ' ');
    }
}
