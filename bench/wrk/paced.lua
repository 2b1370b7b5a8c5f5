-- The peer's tweet bodies, paced: each connection waits DELAY_MS between
-- requests, so CONNS connections offer about CONNS * 1000 / DELAY_MS req/s.
local bodies = {
 '{"text": "@united my flight was delayed three hours and nobody at the gate could tell us anything, worst experience ever"}',
 '{"text": "@SouthwestAir thanks for the great service today, the crew was friendly and we landed early!"}',
 '{"text": "@AmericanAir is there wifi on the 7am flight from DFW to LAX? need to work during the trip"}',
 '{"text": "@JetBlue lost my bag again, second time this month. customer service keeps putting me on hold"}'}
local i = 0
local pause = tonumber(os.getenv("DELAY_MS") or "0")
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end
delay = function() return pause end
