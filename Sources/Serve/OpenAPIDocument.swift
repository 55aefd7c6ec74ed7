/// The OpenAPI 3 description of the API: the contract schemathesis checks the server against.
enum OpenAPIDocument {
    static let json = #"""
        {
         "openapi": "3.0.3",
         "info": {
          "title": "pktstat serve",
          "version": "1",
          "description": "Live packet counts, sizes and drops; interfaces, routes, gateways. Errors: Error."
         },
         "paths": {
          "/api/v1/interfaces": {
           "get": {
            "summary": "Interfaces, as pktstat interfaces --format json (ip -j addr keys)",
            "responses": {
             "200": {
              "description": "a JSON array",
              "content": {
               "application/json": {
                "schema": {
                 "type": "array",
                 "items": {
                  "$ref": "#/components/schemas/Interface"
                 }
                }
               }
              }
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             },
             "500": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          },
          "/api/v1/routes": {
           "get": {
            "summary": "Routes of every table, as pktstat routes --table all --format json (ip -j route keys)",
            "responses": {
             "200": {
              "description": "a JSON array",
              "content": {
               "application/json": {
                "schema": {
                 "type": "array",
                 "items": {
                  "type": "object",
                  "required": [
                   "dst"
                  ],
                  "properties": {
                   "dst": {
                    "type": "string"
                   },
                   "dev": {
                    "type": "string"
                   },
                   "gateway": {
                    "type": "string"
                   }
                  }
                 }
                }
               }
              }
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             },
             "500": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          },
          "/api/v1/gateways": {
           "get": {
            "summary": "Default gateway per family, as pktstat gateways --format json",
            "responses": {
             "200": {
              "description": "an object",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "default",
                  "reasons",
                  "routes"
                 ],
                 "properties": {
                  "default": {
                   "type": "object"
                  },
                  "reasons": {
                   "type": "object"
                  },
                  "routes": {
                   "type": "array"
                  }
                 }
                }
               }
              }
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             },
             "500": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          },
          "/api/v1/summary": {
           "get": {
            "summary": "Totals since serve started (analyze --summary --format json), drops included",
            "responses": {
             "200": {
              "description": "an object",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/Summary"
                }
               }
              }
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          },
          "/api/v1/series": {
           "get": {
            "summary": "The recent closed intervals (a bounded window, the last hour at most)",
            "parameters": [
             {
              "name": "since",
              "in": "query",
              "required": false,
              "description": "Unix seconds: only intervals starting at or after it",
              "schema": {
               "type": "number"
              }
             }
            ],
            "responses": {
             "200": {
              "description": "intervals, oldest first",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "interval_seconds",
                  "intervals"
                 ],
                 "properties": {
                  "interval_seconds": {
                   "type": "number"
                  },
                  "intervals": {
                   "type": "array",
                   "items": {
                    "$ref": "#/components/schemas/Interval"
                   }
                  }
                 }
                }
               }
              }
             },
             "400": {
              "$ref": "#/components/responses/Error"
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          },
          "/api/v1/series/stream": {
           "get": {
            "summary": "Server-Sent Events: an 'interval' event (data: an Interval) per closed interval",
            "responses": {
             "200": {
              "description": "an endless event stream",
              "content": {
               "text/event-stream": {
                "schema": {
                 "type": "string"
                }
               }
              }
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             },
             "503": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          },
          "/api/v1/openapi.json": {
           "get": {
            "summary": "This document",
            "responses": {
             "200": {
              "description": "OpenAPI 3",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object"
                }
               }
              }
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          },
          "/metrics": {
           "get": {
            "summary": "Prometheus text exposition",
            "responses": {
             "200": {
              "description": "metrics",
              "content": {
               "text/plain": {
                "schema": {
                 "type": "string"
                }
               }
              }
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          },
          "/api/v1/flows": {
           "get": {
            "summary": "Top talkers from the flow table (copied once a second, idle flows leave after 5 min)",
            "parameters": [
             {
              "name": "top",
              "in": "query",
              "required": false,
              "schema": {
               "type": "integer",
               "minimum": 1,
               "maximum": 10000,
               "default": 10
              }
             },
             {
              "name": "by",
              "in": "query",
              "required": false,
              "schema": {
               "type": "string",
               "enum": [
                "bytes",
                "packets"
               ],
               "default": "bytes"
              }
             },
             {
              "name": "view",
              "in": "query",
              "required": false,
              "schema": {
               "type": "string",
               "enum": [
                "flow",
                "host",
                "port"
               ],
               "default": "flow"
              }
             }
            ],
            "responses": {
             "200": {
              "description": "rows as pktstat flows --format json prints them",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "view",
                  "by",
                  "active_flows",
                  "taken",
                  "rows"
                 ],
                 "properties": {
                  "view": {
                   "type": "string",
                   "enum": [
                    "flow",
                    "host",
                    "port"
                   ]
                  },
                  "by": {
                   "type": "string",
                   "enum": [
                    "bytes",
                    "packets"
                   ]
                  },
                  "active_flows": {
                   "type": "integer",
                   "minimum": 0
                  },
                  "taken": {
                   "type": "number",
                   "nullable": true
                  },
                  "rows": {
                   "type": "array",
                   "items": {
                    "type": "object",
                    "required": [
                     "packets",
                     "bytes"
                    ],
                    "properties": {
                     "packets": {
                      "type": "integer",
                      "minimum": 0
                     },
                     "bytes": {
                      "type": "integer",
                      "minimum": 0
                     }
                    }
                   }
                  }
                 }
                }
               }
              }
             },
             "400": {
              "$ref": "#/components/responses/Error"
             },
             "401": {
              "$ref": "#/components/responses/Error"
             },
             "403": {
              "$ref": "#/components/responses/Error"
             }
            }
           }
          }
         },
         "components": {
          "responses": {
           "Error": {
            "description": "an error",
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/Error"
              }
             }
            }
           }
          },
          "schemas": {
           "Error": {
            "type": "object",
            "required": [
             "error"
            ],
            "properties": {
             "error": {
              "type": "object",
              "required": [
               "status",
               "message"
              ],
              "properties": {
               "status": {
                "type": "integer"
               },
               "message": {
                "type": "string"
               }
              }
             }
            }
           },
           "Protocols": {
            "type": "object",
            "additionalProperties": {
             "type": "object",
             "required": [
              "packets",
              "bytes"
             ],
             "properties": {
              "packets": {
               "type": "integer",
               "minimum": 0
              },
              "bytes": {
               "type": "integer",
               "minimum": 0
              }
             }
            }
           },
           "Drops": {
            "type": "object",
            "required": [
             "kernel",
             "interface",
             "ring"
            ],
            "properties": {
             "kernel": {
              "type": "integer",
              "minimum": 0
             },
             "interface": {
              "type": "integer",
              "minimum": 0
             },
             "ring": {
              "type": "integer",
              "minimum": 0
             }
            }
           },
           "Interval": {
            "type": "object",
            "required": [
             "start",
             "interval_seconds",
             "packets",
             "bytes",
             "bits_per_second",
             "min_length",
             "max_length",
             "mean_length",
             "protocols",
             "drops",
             "late_packets"
            ],
            "properties": {
             "start": {
              "type": "number"
             },
             "interval_seconds": {
              "type": "number"
             },
             "packets": {
              "type": "integer",
              "minimum": 0
             },
             "bytes": {
              "type": "integer",
              "minimum": 0
             },
             "bits_per_second": {
              "type": "number"
             },
             "min_length": {
              "type": "integer"
             },
             "max_length": {
              "type": "integer"
             },
             "mean_length": {
              "type": "number",
              "nullable": true
             },
             "protocols": {
              "$ref": "#/components/schemas/Protocols"
             },
             "drops": {
              "$ref": "#/components/schemas/Drops"
             },
             "late_packets": {
              "type": "integer",
              "minimum": 0
             }
            }
           },
           "Summary": {
            "type": "object",
            "required": [
             "packets",
             "bytes",
             "captured_bytes",
             "first",
             "last",
             "protocols",
             "sizes",
             "drops"
            ],
            "properties": {
             "packets": {
              "type": "integer",
              "minimum": 0
             },
             "bytes": {
              "type": "integer",
              "minimum": 0
             },
             "captured_bytes": {
              "type": "integer",
              "minimum": 0
             },
             "first": {
              "type": "number",
              "nullable": true
             },
             "last": {
              "type": "number",
              "nullable": true
             },
             "duration": {
              "type": "number"
             },
             "packets_per_second": {
              "type": "number",
              "nullable": true
             },
             "bits_per_second": {
              "type": "number",
              "nullable": true
             },
             "min_length": {
              "type": "integer",
              "nullable": true
             },
             "mean_length": {
              "type": "number",
              "nullable": true
             },
             "max_length": {
              "type": "integer",
              "nullable": true
             },
             "protocols": {
              "$ref": "#/components/schemas/Protocols"
             },
             "sizes": {
              "type": "array",
              "items": {
               "type": "object"
              }
             },
             "drops": {
              "$ref": "#/components/schemas/Drops"
             },
             "late_packets": {
              "type": "integer"
             },
             "beyond_limit_packets": {
              "type": "integer"
             }
            }
           },
           "Interface": {
            "type": "object",
            "required": [
             "ifindex",
             "ifname"
            ],
            "properties": {
             "ifindex": {
              "type": "integer"
             },
             "ifname": {
              "type": "string"
             },
             "mtu": {
              "type": "integer"
             },
             "addr_info": {
              "type": "array"
             }
            }
           }
          },
          "securitySchemes": {
           "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "a token from --token-file; one with the scope metrics may read /metrics only (403 here)"
           },
           "basic": {
            "type": "http",
            "scheme": "basic",
            "description": "basic_auth_users of --web.config.file"
           }
          }
         },
         "security": [
          {},
          {
           "bearer": []
          },
          {
           "basic": []
          }
         ]
        }
        """#
}
