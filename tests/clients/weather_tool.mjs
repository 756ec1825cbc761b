// The tool the client tests offer, in each dialect's shape.
const PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
};

export const OPENAI_WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather for a city', parameters: PARAMETERS },
};

export const ANTHROPIC_WEATHER_TOOL = {
  name: 'get_weather', description: 'Current weather for a city', input_schema: PARAMETERS,
};

// Responses API function tools are flat: {type, name, description, parameters}.
export const RESPONSES_WEATHER_TOOL = {
  type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: PARAMETERS,
};
