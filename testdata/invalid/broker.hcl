listener "public" {
  address = "0.0.0.0:8080"
}
route "io" {
  path = "/socket.io/"
  pool = "io"
}
route "sockjs" {
  path = "/sockjs/"
  pool = "sockjs"
}
route "ws" {
  path      = "/ws"
  websocket = true
  pool      = "ws"
}
route "ws2" {
  path      = "/live2"
  websocket = true
  pool      = "bad"
}
route "ws3" {
  path      = "/live3"
  websocket = true
  pool      = "bad2"
}
pool "io" { # ERROR: Socket.IO without affinity
  broker {
    kind = "nats"
    url  = "nats://127.0.0.1:4222"
  }
  server "io1" {
    address = "10.0.0.11:3000"
  }
  server "io2" {
    address = "10.0.0.12:3000"
  }
}
pool "sockjs" { # ERROR: HTTP long-polling without affinity
  broker {
    kind     = "rabbitmq"
    url      = "amqp://guest:guest@127.0.0.1:5672/"
    exchange = "chat"
  }
  server "s1" {
    address = "10.0.0.13:3000"
  }
  server "s2" {
    address = "10.0.0.14:3000"
  }
}
pool "ws" {
  broker {
    kind  = "kafka"
    url   = "kafka://127.0.0.1:9092"
    topic = "chat.v1"
  }
  server "ws1" {
    address = "10.0.0.21:8080"
  }
  server "ws2" {
    address = "10.0.0.22:8080"
  }
}
pool "bad" {
  broker {
    kind     = "mqtt" # ERROR: Unknown broker kind
    url      = "mqtt://127.0.0.1:1883"
    channel  = "x"
  }
  broker { # ERROR: Duplicate broker block
    kind = "redis"
    url  = "redis://127.0.0.1:6379"
  }
  server "b1" {
    address = "10.0.0.31:8080"
  }
}
pool "bad2" {
  broker {
    kind     = "redis"
    url      = "nats://127.0.0.1:4222" # ERROR: Invalid broker URL
    exchange = "chat" # ERROR: Attribute not used by broker kind
    channel  = "chat*" # ERROR: Invalid broker channel
    room_key = "room id" # ERROR: Invalid query parameter name
  }
  broker_typo = 1 # ERROR: Unsupported argument
  server "b2" {
    address = "10.0.0.32:8080"
  }
}
