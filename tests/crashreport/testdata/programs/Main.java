package com.example;

import java.util.ArrayList;
import java.util.List;

public class Main {
    static int parsePort(String s) {
        return Integer.parseInt(s);
    }

    static void loadConfig(String s) {
        try {
            parsePort(s);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("bad config: " + s, e);
        }
    }

    static class Resource implements AutoCloseable {
        @Override
        public void close() {
            throw new UnsupportedOperationException("close failed");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("npe")) {
            List<String> xs = new ArrayList<>();
            xs.add(null);
            System.out.println(xs.get(0).length());
        }
        if (args.length > 0 && args[0].equals("suppressed")) {
            try (Resource r = new Resource()) {
                loadConfig("x" + args.length);
            }
        }
        if (args.length > 0 && args[0].equals("thread")) {
            Thread t = new Thread(() -> { Object o = "s"; Integer i = (Integer) o; }, "worker-7");
            t.start();
            t.join();
            return;
        }
        loadConfig("abc" + args.length);
    }
}
